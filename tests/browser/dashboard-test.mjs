// Drives the skiff dashboard of a running cluster in headless Chromium, as a user would.
//
//   node dashboard-test.mjs <screenshot dir>
//
// with the environment set by labs/09-cluster/tests/dashboard.rs, which starts
// `skiff up --nodes 3`, applies a Deployment of 3 echo servers, a Service and a Secret, and
// checks afterwards through the API that the dashboard's actions took effect:
//   SKIFF_DASHBOARD_URL   https://127.0.0.1:PORT/ui/
//   SKIFF_ADMIN_TOKEN     the admin's bearer token
//   SKIFF_VIEWER_TOKEN    the viewer's bearer token
//   SKIFF_DATA_DIR        the cluster's data dir (to find, and kill, its API server)
//   SKIFF_SECRET_VALUE    the value in the Secret, which only the admin may see
//
// Each step waits for what the user would wait for, with a generous deadline as a safety
// net; nothing measures time. The page is never reloaded: a marker set on `window` at the
// start must still be there at the end. Writes overview.png, pods.png and deployments.png into
// <screenshot dir>; prints one line per step; exits 1 on the first failed step.

import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { launchBrowser, watchedPage } from './browser.mjs';

/** The safety net for each wait: far longer than any step takes on a busy machine. */
const DEADLINE_MS = 120_000;

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run this through labs/09-cluster/tests/dashboard.rs)`);
  return value;
};

async function main([shotDir]) {
  if (!shotDir) throw new Error('usage: node dashboard-test.mjs <screenshot dir>');
  await mkdir(shotDir, { recursive: true });
  await rm(join(shotDir, 'failure.png'), { force: true }); // a previous run's
  const url = env('SKIFF_DASHBOARD_URL');
  const origin = new URL(url).origin;
  const browser = await launchBrowser(origin, { ignoreHTTPSErrors: true });
  try {
    await run(browser.context, url, shotDir).catch(async (error) => {
      // What the user saw when it went wrong: the page and its notice line.
      const [page] = browser.context.pages().slice(-1);
      if (page) {
        await page.screenshot({ path: join(shotDir, 'failure.png') }).catch(() => {});
        const notice = await page.locator('#notice').textContent().catch(() => '');
        const live = await page.locator('#live').innerText().catch(() => '');
        error.message += `\n  notice: ${notice}\n  page (failure.png):\n${live}`;
      }
      throw error;
    });
    if (browser.offsite.length) throw new Error(`requests to the network: ${browser.offsite.join(', ')}`);
  } finally {
    await browser.close();
  }
}

/** Logs a step and runs it. */
async function step(name, action) {
  await action();
  console.log(`ok   ${name}`);
}

/** The rows of the pod table that are Running. */
function runningPods(page) {
  return page.$$eval('tr[data-phase="Running"]', (rows) => rows.map((r) => r.dataset.pod));
}

async function waitForRunning(page, count, what) {
  await page.waitForFunction(
    (n) => document.querySelectorAll('tr[data-phase="Running"]').length === n
      && document.querySelectorAll('tr[data-pod]').length === n,
    count,
    { timeout: DEADLINE_MS },
  ).catch(async () => {
    const rows = await page.$$eval('tr[data-pod]', (r) => r.map((x) => `${x.dataset.pod} ${x.dataset.phase}`));
    throw new Error(`${what}: expected ${count} Running pods, the page shows: ${rows.join('; ') || 'none'}`);
  });
}

async function signIn(page, token) {
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('nav').waitFor({ state: 'visible', timeout: DEADLINE_MS });
}

async function run(context, url, shotDir) {
  const { page, problems } = await watchedPage(context);
  // A user closing a stream (a watch when signing out, a log when leaving the page) aborts it.
  const realProblems = () => problems.filter((p) => !p.includes('net::ERR_ABORTED'));
  const expectNoProblems = (when) => {
    const found = realProblems();
    if (found.length) throw new Error(`${when}: ${found.join('\n  ')}`);
  };

  await step('the sign-in page loads and refuses a wrong token with the reason', async () => {
    await page.goto(url);
    await page.evaluate(() => { window.__sameDocument = 'yes'; });
    await page.locator('#token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('did not accept this token (401 Unauthorized)').waitFor({ timeout: DEADLINE_MS });
    problems.length = 0; // the 401 above is the console error we asked for
  });

  await step('the admin signs in and sees 3 Ready nodes, live', async () => {
    await signIn(page, env('SKIFF_ADMIN_TOKEN'));
    await page.waitForFunction(
      () => document.querySelectorAll('tr[data-node][data-ready="true"]').length === 3,
      null,
      { timeout: DEADLINE_MS },
    );
    await page.locator('#nodes-ready strong').getByText('3 / 3').waitFor({ timeout: DEADLINE_MS });
    await page.locator('.connection.live').waitFor({ timeout: DEADLINE_MS });
    await page.screenshot({ path: join(shotDir, 'overview.png') });
  });

  await step("the Deployment's 3 pods are Running (filtered by namespace and label)", async () => {
    await page.getByRole('link', { name: 'Deployments' }).click();
    await page.locator('tr[data-deployment="default/web"]').getByRole('link', { name: 'web' }).click();
    const labels = await page.locator('#filter-labels').inputValue();
    if (labels !== 'app=web') throw new Error(`the Deployment's link filters by "${labels}", not app=web`);
    await waitForRunning(page, 3, 'before scaling');
    await page.screenshot({ path: join(shotDir, 'pods.png') });
  });

  await step('scale 3 → 5 on the Deployments view; 5 pods become Running, no reload', async () => {
    await page.getByRole('link', { name: 'Deployments' }).click();
    const replicas = page.getByLabel('Replicas for web');
    await replicas.fill('5');
    await page.getByRole('button', { name: 'Scale' }).click();
    // The watch brings the new spec back: the Ready column now counts to 5.
    await page.locator('tr[data-deployment="default/web"] td.num').first().getByText(/\/5$/)
      .waitFor({ timeout: DEADLINE_MS });
    await page.locator('#notice').getByText('Scale default/web to 5: done').waitFor({ timeout: DEADLINE_MS });
    await page.screenshot({ path: join(shotDir, 'deployments.png') });
    await page.getByRole('link', { name: 'Pods', exact: true }).click();
    await page.locator('#filter-labels').fill('app=web');
    await waitForRunning(page, 5, 'after scaling to 5');
  });

  let replacementOf;
  await step('delete a pod; its replacement appears and runs', async () => {
    const before = await runningPods(page);
    replacementOf = before[0];
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: `Delete pod ${replacementOf}` }).click();
    await page.waitForFunction(
      ([gone, old]) => {
        const running = [...document.querySelectorAll('tr[data-phase="Running"]')].map((r) => r.dataset.pod);
        const all = document.querySelectorAll('tr[data-pod]').length;
        return all === 5 && running.length === 5 && !running.includes(gone)
          && running.some((p) => !old.includes(p));
      },
      [replacementOf, before],
      { timeout: DEADLINE_MS },
    );
  });

  await step("a pod's detail shows its container; Show logs follows its log", async () => {
    const pod = (await runningPods(page))[0];
    await page.getByRole('link', { name: pod.split('/')[1], exact: true }).click();
    await page.getByRole('heading', { name: `Pod ${pod}` }).waitFor({ timeout: DEADLINE_MS });
    await page.getByRole('cell', { name: 'skiff/echo' }).waitFor({ timeout: DEADLINE_MS });
    await page.getByRole('button', { name: 'Show logs' }).click();
    // Logs come from the pod's kubelet through the API server; if they fail, the page shows
    // the API's message, which the error below quotes.
    await page.waitForFunction(
      () => document.getElementById('logs').textContent.includes('echo: listening on')
        || document.getElementById('log-error').textContent !== '',
      null,
      { timeout: DEADLINE_MS },
    );
    const error = await page.locator('#log-error').textContent();
    if (error) throw new Error(`the logs view shows the API's error: ${error}`);
  });

  await step('Services show the endpoints and their nodes; Events are listed', async () => {
    await page.getByRole('link', { name: 'Services' }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('tr[data-service="default/web"] li').length === 5,
      null,
      { timeout: DEADLINE_MS },
    );
    const nodes = await page.locator('tr[data-service="default/web"] td').last().textContent();
    if (!/n[123]/.test(nodes)) throw new Error(`the Service's nodes column says "${nodes}"`);
    await page.getByRole('link', { name: 'Events' }).click();
    await page.locator('main tbody tr').first().waitFor({ timeout: DEADLINE_MS });
  });

  await step('cordon node n3 from the overview', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('button', { name: 'Cordon node n3' }).click();
    await page.locator('tr[data-node="n3"]').getByText('SchedulingDisabled').waitFor({ timeout: DEADLINE_MS });
    // What the page shows is what the API stores, as kubectl would see it.
    const unschedulable = await page.evaluate(async (token) => {
      const response = await fetch('/api/v1/nodes/n3', { headers: { Authorization: `Bearer ${token}` } });
      return (await response.json()).spec.unschedulable;
    }, env('SKIFF_ADMIN_TOKEN'));
    if (unschedulable !== true) throw new Error(`the API says n3's spec.unschedulable is ${unschedulable}`);
  });

  expectNoProblems('as the admin');

  await step('the API server dies: the page says so, then resumes when it is back', async () => {
    const pid = await apiServerPid(env('SKIFF_DATA_DIR'));
    process.kill(pid, 'SIGKILL');
    await page.locator('.connection.lost').getByText('reconnecting').waitFor({ timeout: DEADLINE_MS });
    await page.locator('.connection.live').waitFor({ timeout: DEADLINE_MS });
    // Still live after the restart: a change made now reaches the page through the resumed
    // watch. (Whichever way n3 is now: see the note printed when the cordon was lost.)
    const toggle = page.getByRole('button', { name: /^(Cordon|Uncordon) node n3$/ });
    const cordoned = (await toggle.getAttribute('aria-label')).startsWith('Uncordon');
    if (!cordoned) console.log('note: after the API server restarted, n3 was no longer cordoned');
    await toggle.click();
    const next = cordoned ? 'Cordon' : 'Uncordon';
    await page.getByRole('button', { name: `${next} node n3` }).waitFor({ timeout: DEADLINE_MS });
    problems.length = 0; // refused connections while it was down
  });

  await step("the admin sees the Secret's value", async () => {
    await page.getByRole('link', { name: 'Secrets' }).click();
    await page.locator('tr[data-secret="default/db"]').getByText(env('SKIFF_SECRET_VALUE'))
      .waitFor({ timeout: DEADLINE_MS });
  });

  await step('the page was never reloaded', async () => {
    const marker = await page.evaluate(() => window.__sameDocument);
    if (marker !== 'yes') throw new Error('the page was reloaded (its window marker is gone)');
  });

  await step('a viewer sees no Secret data and no scale, delete or cordon control', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').waitFor({ state: 'visible', timeout: DEADLINE_MS });
    await signIn(page, env('SKIFF_VIEWER_TOKEN'));
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('tr[data-node]').length === 3,
      null,
      { timeout: DEADLINE_MS },
    );
    await page.getByRole('link', { name: 'Secrets' }).click();
    await page.locator('tr[data-secret="default/db"]').getByText('hidden').waitFor({ timeout: DEADLINE_MS });
    const text = await page.locator('body').textContent();
    if (text.includes(env('SKIFF_SECRET_VALUE'))) throw new Error("the viewer's page shows the Secret's value");
    await page.getByRole('link', { name: 'Deployments' }).click();
    await page.locator('tr[data-deployment="default/web"]').waitFor({ timeout: DEADLINE_MS });
    for (const [what, selector] of [
      ['a scale control', 'input[type="number"], form.scale'],
      ['a Scale button', 'button:text("Scale")'],
    ]) {
      if (await page.locator(selector).count()) throw new Error(`the viewer sees ${what}`);
    }
    await page.getByRole('link', { name: 'Pods', exact: true }).click();
    await page.locator('tr[data-pod]').first().waitFor({ timeout: DEADLINE_MS });
    if (await page.getByRole('button', { name: /^Delete pod/ }).count()) throw new Error('the viewer sees Delete buttons');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.locator('tr[data-node]').first().waitFor({ timeout: DEADLINE_MS });
    if (await page.getByRole('button', { name: /ordon node/ }).count()) throw new Error('the viewer sees Cordon buttons');
  });

  expectNoProblems('as the viewer');
}

/** The pid of the cluster's API server process (`skiff apiserver --data-dir DIR/apiserver`). */
async function apiServerPid(dataDir) {
  const wanted = `${dataDir}/apiserver`;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args;
    try {
      args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    if (args[1] === 'apiserver' && args.includes(wanted)) return Number(entry);
  }
  throw new Error(`no API server process with --data-dir ${wanted}`);
}

main(process.argv.slice(2)).catch((error) => {
  console.error(`FAIL ${error.message}`);
  process.exit(1);
});
