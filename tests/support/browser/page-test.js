// The web page in a real browser: Debian's chromium, headless, driven by playwright-core.
//   node page-test.js --url http://127.0.0.1:PORT/ --out DIR [--timeout-seconds 420]
// Submits a 12 s job from the page and waits for every task's bar to reach done, checks the video
// element plays it (duration 12 s, currentTime advancing), cancels a second job from the page and
// shows a bad prompt's field error. Screenshots go to DIR; the last line of stdout is a JSON summary.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('node:fs');
const path = require('node:path');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const url = arg('url');
const out = arg('out', '.');
const totalSeconds = Number(arg('timeout-seconds', '420'));
const executablePath = arg('chromium', '/usr/bin/chromium');
if (!url) {
  console.error('usage: node page-test.js --url URL --out DIR');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const guard = setTimeout(() => {
  console.error(`browser test: over ${totalSeconds} s, giving up`);
  process.exit(3);
}, totalSeconds * 1000);

const summary = { steps: [] };
const step = (name, data = {}) => {
  summary.steps.push({ name, at: new Date().toISOString(), ...data });
  console.log(`step ${name} ${JSON.stringify(data)}`);
};

async function main() {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // The job API requires an API key: the page reads it from sessionStorage (its key field), set before it loads.
  const apiKey = process.env.VIDEOGEN_API_KEY || '';
  if (apiKey) await page.addInitScript((k) => sessionStorage.setItem('videogen.apiKey', k), apiKey);
  page.setDefaultTimeout(60_000);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') console.log(`console: ${m.text()}`); });
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#worker-list tr');
    const workers = await page.$$eval('#worker-list tr', (rows) => rows.map((r) => ({ id: r.dataset.workerId, state: r.dataset.state })));
    step('workers', { workers });

    // A bad prompt: its field error shows next to the prompt.
    await page.fill('#prompt', '   ');
    await page.click('#submit-button');
    await page.waitForFunction(() => document.querySelector('.field-error[data-field="job.prompt"]').textContent.length > 0);
    const promptError = await page.textContent('.field-error[data-field="job.prompt"]');
    step('bad-prompt', { promptError });
    await page.screenshot({ path: path.join(out, '1-bad-prompt.png'), fullPage: true });

    // A too-long duration: its error shows next to the seconds field, live from the estimate.
    await page.fill('#prompt', 'a showcase for a lamp');
    await page.fill('#duration', '900');
    await page.waitForFunction(() => document.querySelector('.field-error[data-field="job.duration_seconds"]').textContent.length > 0);
    const durationError = await page.textContent('.field-error[data-field="job.duration_seconds"]');
    step('bad-duration', { durationError });

    // The live estimate of a 12 s job.
    await page.fill('#prompt', 'a 12 second showcase for a titanium smartwatch');
    await page.fill('#duration', '12');
    await page.waitForFunction(() => /chunk/.test(document.querySelector('#estimate').textContent) && document.querySelector('#estimate').textContent.startsWith('12 s'));
    const estimate = await page.textContent('#estimate');
    step('estimate', { estimate, chunks: await page.getAttribute('#estimate', 'data-chunks') });
    await page.screenshot({ path: path.join(out, '2-estimate.png'), fullPage: true });

    // Submit; the job view follows it until every bar is done.
    await page.click('#submit-button');
    await page.waitForSelector('#job-view:not([hidden])');
    const jobId = await page.textContent('#job-id');
    await page.waitForSelector('#tasks .task');
    const sawRunning = page.waitForSelector('#tasks .task[data-state="TASK_STATE_RUNNING"]', { timeout: 120_000 }).then(() => true, () => false);
    await page.waitForSelector('#job-view[data-state="JOB_STATE_SUCCEEDED"]', { timeout: 300_000 });
    const tasks = await page.$$eval('#tasks .task', (rows) => rows.map((r) => ({ id: r.dataset.taskId, state: r.dataset.state, progress: Number(r.dataset.progress) })));
    step('job-done', { jobId, tasks, sawRunning: await sawRunning });
    if (tasks.length === 0 || tasks.some((t) => t.state !== 'TASK_STATE_SUCCEEDED' || t.progress !== 1)) {
      throw new Error(`not every bar reached done: ${JSON.stringify(tasks)}`);
    }

    // The storyboard thumbnails load; the video plays: duration 12 s, currentTime advancing.
    await page.waitForFunction(() => document.querySelectorAll('#storyboard img').length > 0
      && [...document.querySelectorAll('#storyboard img')].every((i) => i.complete && i.naturalWidth > 0));
    const thumbnails = await page.$$eval('#storyboard img', (imgs) => imgs.map((i) => `${i.naturalWidth}x${i.naturalHeight}`));
    await page.waitForFunction(() => document.querySelector('#video').readyState >= 1 && Number.isFinite(document.querySelector('#video').duration));
    const duration = await page.$eval('#video', (v) => v.duration);
    await page.$eval('#video', (v) => { v.muted = true; return v.play(); });
    await page.waitForFunction(() => document.querySelector('#video').currentTime > 1.0, null, { timeout: 60_000 });
    const first = await page.$eval('#video', (v) => v.currentTime);
    await page.waitForFunction((t) => document.querySelector('#video').currentTime > t + 0.5, first, { timeout: 60_000 });
    const second = await page.$eval('#video', (v) => v.currentTime);
    step('video', { duration, first, second, thumbnails, canPlay: await page.$eval('#video', (v) => v.canPlayType('video/mp4; codecs="avc1.64001F, mp4a.40.2"')) });
    await page.screenshot({ path: path.join(out, '3-video-playing.png'), fullPage: true });

    // A second job, cancelled from the page while it runs.
    await page.fill('#prompt', 'a 30 second showcase for an oak chair');
    await page.fill('#duration', '30');
    await page.click('#submit-button');
    await page.waitForFunction((previous) => document.querySelector('#job-id').textContent !== previous, jobId);
    const cancelledId = await page.textContent('#job-id');
    await page.waitForSelector('#tasks .task');
    await page.click('#cancel-button');
    await page.waitForSelector('#job-view[data-state="JOB_STATE_CANCELLED"]', { timeout: 120_000 });
    await page.waitForSelector(`#job-list tr[data-job-id="${cancelledId}"][data-state="JOB_STATE_CANCELLED"]`, { timeout: 30_000 });
    step('cancelled', { cancelledId });
    await page.screenshot({ path: path.join(out, '4-cancelled.png'), fullPage: true });

    // Back to the first job from the list: its view and player come back.
    await page.click(`#job-list tr[data-job-id="${jobId}"]`);
    await page.waitForSelector('#job-view[data-state="JOB_STATE_SUCCEEDED"] #player:not([hidden])');
    Object.assign(summary, { ok: true, jobId, cancelledId, duration, currentTime: second, promptError, durationError, estimate, tasks: tasks.length, pageErrors });
  } catch (error) {
    await page.screenshot({ path: path.join(out, 'failure.png'), fullPage: true }).catch(() => {});
    Object.assign(summary, { ok: false, error: String(error && error.stack || error), pageErrors });
  } finally {
    await browser.close();
  }
}

main().then(() => {
  clearTimeout(guard);
  console.log(JSON.stringify(summary));
  process.exit(summary.ok ? 0 : 1);
}, (error) => {
  console.error(error);
  process.exit(1);
});
