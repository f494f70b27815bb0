# jq definitions the experiment scripts share (jq -L experiments 'include "stats"; ...').

# The mean of an array of numbers.
def mean: add / length;

# The sample standard deviation (n - 1) of an array of numbers; 0 for one number.
def std: mean as $m | if length > 1 then (map((. - $m) * (. - $m)) | add / (length - 1) | sqrt) else 0 end;

# The same two for lists that may be too short: null for no number, and a spread of null below two.
def mean_or_null: if length == 0 then null else mean end;
def std_or_null: if length < 2 then null else std end;

# a / b, or null when b is not positive (a rate of nothing).
def ratio(a; b): if b > 0 then a / b else null end;

# A number with `d` decimals (0 < d), rounded half away from zero, e.g. 0.8555 | fixed(3) = "0.856".
def fixed(d): (reduce range(d) as $i (1; . * 10)) as $s | (. * $s | round) as $r
  | ($r | if . < 0 then -. else . end) as $a
  | (if $r < 0 then "-" else "" end) + (($a / $s | floor) | tostring) + "."
    + (("0" * d) + (($a % $s) | tostring))[-d:];
def f3: fixed(3);
