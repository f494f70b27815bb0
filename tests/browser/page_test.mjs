// Uploads a CinC record through ecgserve's page in headless Chromium and checks what the page draws;
// with a beat model and a WFDB record, does the same for the beats of that record.
//   node page_test.mjs SERVER RECORD SCREENSHOT [BEAT_MODEL BEAT_RECORD]
// SERVER takes ecgserve's options; RECORD is a path without extension (RECORD.hea and RECORD.mat are
// uploaded); SCREENSHOT is where the PNG of the page goes; BEAT_RECORD.hea and .dat are uploaded to
// SERVER --model BEAT_MODEL. Prints TAP-like lines; exit 1 on a failure.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [server, record, screenshot, beatModel, beatRecord] = process.argv.slice(2);
if (!server || !record || !screenshot) {
  console.error("usage: node page_test.mjs SERVER RECORD SCREENSHOT");
  process.exit(2);
}
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
let failures = 0;
function check(name, ok, detail) {
  console.log((ok ? "ok - " : "not ok - ") + name + (ok || detail === undefined ? "" : " (" + detail + ")"));
  if (!ok) failures++;
}

// Starts the server on a free port and resolves with its URL, read from its first line.
function startServer(extra) {
  const child = spawn(server, ["--port", "0", "--threads", "2", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stderr.on("data", (d) => { err += d; });
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server printed no URL in 60 s; stderr: " + err)), 60000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/^ecgserve: serving .* at (http:\S+)$/m);
      if (m) { clearTimeout(timer); resolve(m[1].replace(/\/$/, "")); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error("the server exited with " + code + ": " + err)); });
  });
  return { child, url };
}

// The canvas's pixels as counts a test can reason about, read in the page.
function canvasStats(canvasEl) {
  const g = canvasEl.getContext("2d"), d = g.getImageData(0, 0, canvasEl.width, canvasEl.height).data;
  let dark = 0, reddish = 0, blank = 0;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    const [r, gr, b] = [d[i], d[i + 1], d[i + 2]];
    if (r + gr + b < 200) dark++;
    if (r > 150 && r > gr + 60 && r > b + 60) reddish++;
    if (d[i + 3] === 0) blank++;
    if (colours.size < 5000) colours.add((r << 16) | (gr << 8) | b);
  }
  window.lastPixels = d;
  return { width: canvasEl.width, height: canvasEl.height, cssHeight: canvasEl.getBoundingClientRect().height,
           pixels: d.length / 4, dark, reddish, blank,
           colours: colours.size, sum: d.reduce((a, v, i) => a + v * ((i % 7) + 1), 0) };
}

// Compares the canvas with the pixels canvasStats last read: the share of pixels that differ.
function changedFraction(canvasEl) {
  const d = canvasEl.getContext("2d").getImageData(0, 0, canvasEl.width, canvasEl.height).data, before = window.lastPixels;
  if (!before || before.length !== d.length) return { any: 0, error: "sizes differ" };
  let any = 0;
  for (let i = 0; i < d.length; i += 4)
    if (before[i] !== d[i] || before[i + 1] !== d[i + 1] || before[i + 2] !== d[i + 2]) any++;
  return { any: any / (d.length / 4) };
}

// Starts a server with the extra options and a fresh headless Chromium, runs test(page, url), and stops both.
async function session(extra, test) {
  const profile = mkdtempSync(join(tmpdir(), "ecgserve-chromium-"));
  const { child, url: urlPromise } = startServer(extra);
  let browser;
  try {
    const url = await urlPromise;
    // A fresh profile in a temporary directory (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1100, height: 900 },
      deviceScaleFactor: 1,
    });
    const page = browser.pages()[0] || await browser.newPage();
    const external = [];
    page.on("request", (r) => { if (!r.url().startsWith(url)) external.push(r.url()); });
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(url + "/");
    await page.waitForFunction(() => !document.getElementById("model").textContent.startsWith("loading"));
    await test(page);
    check("the page requested nothing from another origin", external.length === 0, external.join(" "));
    check("the page raised no script error", pageErrors.length === 0, pageErrors.join("; "));
  } catch (e) {
    check("the browser session ran to the end", false, e.message);
  } finally {
    if (browser) await browser.close();
    child.kill("SIGTERM");
    rmSync(profile, { recursive: true, force: true });
  }
}

async function rhythmRecord(page) {
  check("the page shows the model card's name and classes", /classes AF, NSR, Noise, Other/.test(await page.textContent("#model")),
        await page.textContent("#model"));

  const answer = page.waitForResponse((r) => r.url().includes("/v1/classify"));
  await page.setInputFiles("#files", [record + ".hea", record + ".mat"]);
  const response = await answer;
  check("the page's upload is answered 200", response.status() === 200, response.status());
  const body = await response.json();
  const rec = body.records[0];
  await page.waitForSelector("#results .card");

  const shown = await page.textContent("#results .card .cls");
  check("the class shown is the API's class for the record", shown === rec.class, shown + " vs " + rec.class);
  check("the record's name is shown", (await page.textContent("#results .card h2")) === rec.record);

  const bars = await page.$$eval("#results .card .bar", (rows) => rows.map((r) => ({
    name: r.children[0].textContent, label: r.children[2].textContent,
    width: r.children[1].firstChild.getBoundingClientRect().width / r.children[1].getBoundingClientRect().width,
    top: r.classList.contains("top") })));
  check("one probability bar per class", bars.length === body.model.classes.length, bars.length);
  for (const b of bars) {
    const p = rec.probabilities[b.name];
    check(`the ${b.name} bar is ${(100 * p).toFixed(1)}% long and labelled so`,
          Math.abs(b.width - p) < 0.01 && b.label === (100 * p).toFixed(1) + "%", JSON.stringify(b));
  }
  check("only the shown class's bar is highlighted", bars.filter((b) => b.top).map((b) => b.name).join() === rec.class);

  const canvases = await page.$$("#results .card canvas");
  check("the card draws two canvases, the trace and the spectrograms", canvases.length === 2, canvases.length);
  const traceStats = await canvases[0].evaluate(canvasStats);
  check("the trace canvas has the ECG line drawn in dark ink", traceStats.dark > traceStats.width, JSON.stringify(traceStats));
  const withCam = await canvases[1].evaluate(canvasStats);
  check("the spectrogram canvas is drawn with many colours", withCam.colours > 50, JSON.stringify(withCam));
  check("the spectrogram fills its canvas, at least 96 px high", withCam.blank < 0.02 * withCam.pixels &&
        withCam.cssHeight >= 96, JSON.stringify(withCam));
  const labels = await page.$$eval("#results .card .lbl", (ls) => ls.map((l) => l.textContent));
  check("the label says the heat map is over the spectrogram", labels.some((l) => /with where it looked/.test(l)),
        labels.join(" | "));

  await page.screenshot({ path: screenshot, fullPage: true });
  check("a screenshot was saved", true);

  // The heat map is what changes when the checkbox hides it.
  await page.uncheck("#cam");
  const plainCanvas = (await page.$$("#results .card canvas"))[1];
  const changed = await plainCanvas.evaluate(changedFraction);
  check("the heat map covers a good part of the spectrogram (pixels that change when it is hidden)",
        changed.any > 0.01, JSON.stringify(changed));

}

// The beat model: the card counts the beats of each class and marks them on the trace.
async function beatUpload(page) {
  check("the page shows the beat model's classes", /classes N, S, V, F, Q/.test(await page.textContent("#model")),
        await page.textContent("#model"));
  const answer = page.waitForResponse((r) => r.url().includes("/v1/classify"));
  await page.setInputFiles("#files", [beatRecord + ".hea", beatRecord + ".dat"]);
  const response = await answer;
  check("the beat upload is answered 200", response.status() === 200, response.status());
  const rec = (await response.json()).records[0];
  await page.waitForSelector("#results .card");
  const meta = await page.textContent("#results .card .meta");
  check("the card says how many beats were found", meta.includes(rec.beats.length + " beats"), meta);
  const summary = Object.entries(rec.counts).filter(([, n]) => n).map(([k, n]) => k + " " + n).join(" \u00b7 ");
  const shown = await page.textContent("#results .card .cls");
  check("the verdict lists the count of each class found", shown === summary, shown + " vs " + summary);
  const bars = await page.$$eval("#results .card .bar", (rows) => rows.map((r) => ({
    name: r.children[0].textContent, label: r.children[2].textContent,
    width: r.children[1].firstChild.getBoundingClientRect().width / r.children[1].getBoundingClientRect().width })));
  check("one bar per class, as long as its share of the beats and labelled with its count",
        bars.length === 5 && bars.every((b) => b.label === String(rec.counts[b.name]) &&
                                               Math.abs(b.width - rec.counts[b.name] / rec.beats.length) < 0.01),
        JSON.stringify(bars));
  const canvases = await page.$$("#results .card canvas");
  check("the card draws one canvas, the trace, and no spectrogram", canvases.length === 1, canvases.length);
  const stats = await canvases[0].evaluate(canvasStats);
  const marked = rec.beats.some((b) => b.class !== "N");
  check("the trace is drawn" + (marked ? ", with the beats not N marked in red" : ""),
        stats.dark > stats.width && (!marked || stats.reddish > 0), JSON.stringify(stats));
}

await session([], rhythmRecord);
if (beatModel && beatRecord) await session(["--model", beatModel], beatUpload);
process.exit(failures ? 1 : 0);
