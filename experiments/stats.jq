# jq definitions the experiment scripts share (jq -L experiments 'include "stats"; ...').

# The mean of an array of numbers.
def mean: add / length;

# The sample standard deviation (n - 1) of an array of numbers; 0 for one number.
def std: mean as $m | if length > 1 then (map((. - $m) * (. - $m)) | add / (length - 1) | sqrt) else 0 end;
