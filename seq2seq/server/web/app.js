// The s2s web page's behaviour: tabs, the three model forms over the JSON API (/v1/translate,
// /v1/caption, /v1/reply), the attention views, and the runs' learning curves (Chart.js,
// refreshed every 5 s while the tab is open). A query such as ?tab=translate&text=... fills a
// form and submits it the way a person would (links to a result; the headless-browser test).
'use strict';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let models = [];

function setStatus(text, isError) {
  const status = $('status');
  status.textContent = text;
  status.className = isError ? 'error' : 'muted';
}

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const data = await response.json().catch(() => ({error: response.statusText}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function showTab(name) {
  document.querySelectorAll('.tab').forEach((t) => t.classList.toggle('active', t.id === name));
  document.querySelectorAll('#tabs a').forEach((a) => a.classList.toggle('active', a.dataset.tab === name));
  if (name === 'runs') refreshRuns();
}

function fillModels(kind) {
  const select = $(kind === 'translation' ? 'translate-model' : kind + '-model');
  const ofKind = models.filter((m) => m.kind === kind);
  select.innerHTML = '';
  for (const m of ofKind) select.add(new Option(m.name, m.name));
  const tab = kind === 'translation' ? 'translate' : kind;
  document.querySelector(`#tabs a[data-tab="${tab}"]`).classList.toggle('hidden', ofKind.length === 0);
  return ofKind;
}

// ---- translate: text, and the best translation's attention as a heat map --------------------
function heatmap(alignment) {
  const table = document.createElement('table');
  const head = table.insertRow();
  head.appendChild(document.createElement('th'));
  for (const s of alignment.source) {
    const th = document.createElement('th');
    th.className = 'col';
    th.textContent = s;
    head.appendChild(th);
  }
  alignment.target.forEach((t, u) => {
    const row = table.insertRow();
    const th = document.createElement('th');
    th.className = 'row';
    th.textContent = t;
    row.appendChild(th);
    (alignment.soft[u] || []).forEach((w) => {
      const cell = row.insertCell();
      cell.style.background = `rgba(47, 111, 214, ${Math.min(1, w).toFixed(3)})`;
      cell.title = w.toFixed(3);
    });
  });
  return table;
}

async function translate(event) {
  if (event) event.preventDefault();
  const lines = $('translate-input').value.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return;
  setStatus('translating…');
  try {
    const data = await api('/v1/translate', {model: $('translate-model').value, text: lines,
      beam: Number($('translate-beam').value), alignment: 'soft'});
    const output = $('translate-output');
    output.innerHTML = '';
    for (const t of data.translations) {
      const p = document.createElement('p');
      p.textContent = t.error ? t.error : t.text;
      if (t.error) p.className = 'error';
      output.appendChild(p);
    }
    const alignment = $('translate-alignment');
    alignment.innerHTML = '';
    if (data.translations[0].alignment) alignment.appendChild(heatmap(data.translations[0].alignment));
    setStatus(`${data.translations.length} line(s), decoded in a batch of ${data.batch_items}`);
    document.body.dataset.state = 'translated';
  } catch (e) {
    setStatus(e.message, true);
  }
}

// ---- caption: the image, its caption, and the attention of the word under the pointer ---------
let captionImage = null, captionResult = null;

function drawCaption(wordIndex) {
  const canvas = $('caption-canvas'), ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!captionImage) return;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(captionImage, 0, 0, canvas.width, canvas.height);
  if (wordIndex === undefined || !captionResult || !captionResult.attention) return;
  const [gh, gw] = captionResult.attention.grid;
  const weights = captionResult.attention.weights[wordIndex];
  const grid = document.createElement('canvas');
  grid.width = gw, grid.height = gh;
  const g = grid.getContext('2d'), pixels = g.createImageData(gw, gh);
  const top = Math.max(...weights) || 1;
  weights.forEach((w, i) => {
    pixels.data.set([255, 200, 0, Math.round(200 * w / top)], 4 * i);
  });
  g.putImageData(pixels, 0, 0);
  ctx.fillStyle = 'rgba(0, 0, 0, 0.45)';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(grid, 0, 0, canvas.width, canvas.height);  // smoothed: a soft overlay
}

async function captionFile(blob) {
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  captionImage = await new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => resolve(null);
    img.src = url;
  });
  captionResult = null;
  drawCaption();
  setStatus('captioning…');
  try {
    const data = await api('/v1/caption', {model: $('caption-model').value, images: [url],
      attention: true});
    const c = data.captions[0];
    if (c.error) throw new Error(c.error);
    captionResult = c;
    $('caption-output').textContent = c.text;
    const words = $('caption-words');
    words.innerHTML = '';
    c.words.forEach((w, i) => {
      const span = document.createElement('span');
      span.textContent = w;
      const show = () => {
        words.querySelectorAll('span').forEach((s) => s.classList.remove('active'));
        span.classList.add('active');
        drawCaption(i);
      };
      span.addEventListener('mouseenter', show);
      span.addEventListener('click', show);
      words.appendChild(span);
    });
    if (c.words.length) words.firstChild.dispatchEvent(new Event('click'));
    setStatus('captioned');
    document.body.dataset.state = 'captioned';
  } catch (e) {
    $('caption-output').textContent = '';
    setStatus(e.message, true);
  }
}

// ---- reply -------------------------------------------------------------------------------
async function reply(event) {
  if (event) event.preventDefault();
  const message = $('reply-input').value.trim();
  if (!message) return;
  setStatus('thinking…');
  try {
    const data = await api('/v1/reply', {model: $('reply-model').value, messages: [message], k: 3});
    const output = $('reply-output');
    output.innerHTML = '';
    const s = data.suggestions[0];
    for (const r of s.replies) {
      const chip = document.createElement('div');
      chip.textContent = r.text;
      chip.title = `log P = ${r.score.toFixed(2)}`;
      output.appendChild(chip);
    }
    if (!s.triggered) output.textContent = 'No confident suggestion for this message.';
    setStatus('');
    document.body.dataset.state = 'replied';
  } catch (e) {
    setStatus(e.message, true);
  }
}

// ---- runs: learning curves, refreshed while the tab is shown ----------------------------------
const charts = new Map();  // run name -> {loss, score}
let runsTimer = null;

function hoursMinutes(seconds) {
  const m = Math.round(seconds / 60);
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
}

function lineChart(canvas, label, color) {
  return new Chart(canvas, {
    type: 'line',
    data: {datasets: [{label, data: [], borderColor: color, backgroundColor: color,
                       pointRadius: 0, borderWidth: 2, tension: 0.1}]},
    options: {animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
              scales: {x: {type: 'linear', title: {display: true, text: 'step'}},
                       y: {title: {display: true, text: label}}},
              plugins: {legend: {display: false},
                        tooltip: {callbacks: {title: (items) => items.length ?
                          `step ${items[0].raw.s}, ${hoursMinutes(items[0].raw.t)} h` : ''}}}}});
}

async function refreshRuns() {
  clearTimeout(runsTimer);
  if (!$('runs').classList.contains('active')) return;
  try {
    const data = await api('/v1/runs');
    const list = $('runs-list');
    $('runs-note').textContent = data.runs.length ? '' : 'No training runs under the runs folder yet.';
    for (const run of data.runs) {
      let entry = charts.get(run.name);
      if (!entry) {
        const card = document.createElement('div');
        card.className = 'run';
        card.innerHTML = '<h3></h3><div class="charts"><div><canvas></canvas></div>' +
                         '<div><canvas></canvas></div></div>';
        card.querySelector('h3').textContent = run.name;
        list.appendChild(card);
        const [lossCanvas, scoreCanvas] = card.querySelectorAll('canvas');
        entry = {card, loss: lineChart(lossCanvas, 'training loss', '#2f6fd6'),
                 score: lineChart(scoreCanvas, 'validation', '#d65a2f'), lossCanvas, scoreCanvas};
        charts.set(run.name, entry);
      }
      const log = await api('/v1/runs/log?run=' + encodeURIComponent(run.name));
      const progress = log.records.filter((r) => r.kind === 'progress');
      const validation = log.records.filter((r) => r.kind === 'validation');
      const scoreName = validation.length && validation[0].score_name ? validation[0].score_name : '';
      // x: the step, or the training time in minutes (the axis selector above the runs).
      const byTime = $('runs-axis').value === 'time';
      const x = (r) => (byTime ? r.elapsed / 60 : r.step);
      entry.loss.data.datasets[0].data = progress.map((r) => ({x: x(r), y: r.loss, t: r.elapsed, s: r.step}));
      entry.score.data.datasets[0].data = validation.map((r) =>
        ({x: x(r), y: scoreName ? r.score : r.perplexity, t: r.elapsed, s: r.step}));
      for (const chart of [entry.loss, entry.score])
        chart.options.scales.x.title.text = byTime ? 'training time (minutes)' : 'step';
      entry.score.options.scales.y.title.text = scoreName ? `validation ${scoreName}` : 'validation perplexity';
      // An empty chart says nothing: say why (the recipe validates nothing, or not yet).
      entry.score.options.plugins.title = {display: validation.length === 0, color: '#777',
        text: 'no validation yet (data.valid and train.valid_every)'};
      entry.loss.update();
      entry.score.update();
      const last = log.records[log.records.length - 1];
      entry.card.querySelector('h3').textContent =
        `${run.name} — ${run.task || 'run'}, step ${run.step}` +
        (last ? `, ${hoursMinutes(last.elapsed)} h` : '') +
        (run.score_name ? `, best ${run.score_name} ${run.best_score.toFixed(2)}` : '');
      entry.lossCanvas.dataset.points = String(progress.length);
      entry.scoreCanvas.dataset.points = String(validation.length);
    }
    document.body.dataset.state = 'charted';
  } catch (e) {
    setStatus(e.message, true);
  }
  runsTimer = setTimeout(refreshRuns, 5000);
}

// ---- start -------------------------------------------------------------------------------
async function start() {
  $('translate-form').addEventListener('submit', translate);
  $('reply-form').addEventListener('submit', reply);
  $('caption-file').addEventListener('change', (e) => e.target.files[0] && captionFile(e.target.files[0]));
  const drop = $('drop-zone');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files[0]) captionFile(e.dataTransfer.files[0]);
  });
  $('runs-axis').addEventListener('change', refreshRuns);
  window.addEventListener('hashchange', () => showTab(location.hash.slice(1) || 'translate'));

  try {
    const data = await api('/v1/models');
    models = data.models;
    fillModels('translation');
    fillModels('caption');
    fillModels('reply');
    document.querySelector('#tabs a[data-tab="runs"]').classList.toggle('hidden', !data.runs);
  } catch (e) {
    setStatus(e.message, true);
  }
  const tab = params.get('tab') || location.hash.slice(1) ||
      (models.length ? {translation: 'translate', caption: 'caption', reply: 'reply'}[models[0].kind] : 'translate');
  if (params.get('axis') === 'time') $('runs-axis').value = 'time';
  showTab(tab);
  // Links that fill a form and submit it, as a person would.
  if (params.has('text') && tab === 'translate') {
    $('translate-input').value = params.get('text');
    $('translate-form').requestSubmit();
  } else if (params.has('text') && tab === 'reply') {
    $('reply-input').value = params.get('text');
    $('reply-form').requestSubmit();
  } else if (params.has('image') && tab === 'caption') {
    const blob = await (await fetch(params.get('image'))).blob();
    captionFile(blob);
  }
}

start();
