// The console's pictures (R22, docs/rules.md): inline SVG drawn here, no chart library. Each
// picture is an <svg role="img"> named by its <title> and summed up by its <desc>, with the
// same numbers as a <table> beside it, so a screen reader has all of it. Amounts stay integer
// minor units; only the bars' heights are fractions.

const SVG = "http://www.w3.org/2000/svg";
/** One colour per terminal, each at least 3:1 against white (WCAG 1.4.11). */
const PALETTE = ["#1a5fd0", "#b35c00", "#1b7a3a", "#7b3fb5", "#00707a", "#a3245e", "#5d6b78", "#8a6d00"];
const HEIGHT = 220;
const FONT = 12;

let unique = 0;

function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function htmlEl(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

export function colourOf(index) {
  return PALETTE[index % PALETTE.length];
}

/** A step of 1, 2 or 5 times a power of ten, in minor units, that cuts the range in about 4. */
function niceStep(range) {
  const rough = Math.max(1, range / 4);
  const pow = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].find((m) => m * pow >= rough) * pow;
  return Math.max(1, Math.round(step));
}

/** The value axis: ticks from the lowest to the highest value (both sides of 0 when needed). */
function axis(min, max) {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max, lo === 0 ? 1 : 0);
  const step = niceStep(hi - lo);
  const bottom = Math.floor(lo / step) * step;
  const top = Math.max(step, Math.ceil(hi / step) * step);
  const ticks = [];
  for (let v = bottom; v <= top; v += step) ticks.push(v);
  return { bottom, top, ticks };
}

/** The frame of a bar chart: <svg role="img"> with its title and desc, the value axis with
 * its grid, and a function from a value to its y. */
function frame({ width, title, desc, ticks, bottom, top, tickText }) {
  const id = `chart-${++unique}`;
  const svg = svgEl("svg", {
    role: "img", width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`,
    "aria-labelledby": `${id}-title ${id}-desc`, class: "chart",
  });
  svg.append(svgEl("title", { id: `${id}-title` }, title), svgEl("desc", { id: `${id}-desc` }, desc));
  const labelWidth = Math.max(...ticks.map((v) => tickText(v).length)) * FONT * 0.6 + 8;
  const plot = { left: Math.ceil(labelWidth), right: width - 6, top: 8, bottom: HEIGHT - 26 };
  const y = (v) => plot.bottom - ((v - bottom) / (top - bottom)) * (plot.bottom - plot.top);
  for (const v of ticks) {
    svg.append(
      svgEl("line", { x1: plot.left, x2: plot.right, y1: y(v), y2: y(v), stroke: v === 0 ? "#5b6570" : "#dde1e6" }),
      svgEl("text", { x: plot.left - 6, y: y(v) + 4, "text-anchor": "end", "font-size": FONT, fill: "#5b6570" }, tickText(v)),
    );
  }
  return { svg, plot, y };
}

function table(caption, head, rows) {
  return htmlEl(
    "table", { class: "chart-table" },
    htmlEl("caption", { text: caption }),
    htmlEl("thead", {}, htmlEl("tr", {}, ...head.map((h) => htmlEl("th", { scope: "col", text: h })))),
    htmlEl("tbody", {}, ...rows.map((r) => htmlEl("tr", {}, htmlEl("th", { scope: "row", text: r[0] }),
      ...r.slice(1).map((c) => htmlEl("td", { class: "num", text: c }))))),
  );
}

/** Every date from `from` to `to`, `YYYY-MM-DD`. */
export function datesBetween(from, to) {
  const out = [];
  const d = new Date(`${from}T00:00:00Z`);
  const end = new Date(`${to}T00:00:00Z`);
  while (d <= end && out.length < 400) {
    out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

/**
 * Net amount per business day, stacked by terminal (positive above the zero line, negative
 * below). `daily` is the answer of GET /v1/console/daily; `text` the page's words; `money`
 * and `tickMoney` format minor units. Draws the currency most terminals trade in; the table
 * lists every row with its currency.
 */
export function dailyPicture(daily, { width, text, money, tickMoney }) {
  const dates = datesBetween(daily.from, daily.to);
  const currencies = new Map();
  for (const n of daily.nets) currencies.set(n.currency, (currencies.get(n.currency) ?? 0) + 1);
  const currency = [...currencies.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? text.currency;
  const nets = daily.nets.filter((n) => n.currency === currency);
  const terminals = [...new Set(daily.nets.map((n) => n.terminal_id))].sort();
  const net = new Map(nets.map((n) => [`${n.business_date}/${n.terminal_id}`, n.net_amount]));
  const dayTotal = (d) => terminals.reduce((s, t) => s + (net.get(`${d}/${t}`) ?? 0), 0);
  const ups = dates.map((d) => terminals.reduce((s, t) => s + Math.max(0, net.get(`${d}/${t}`) ?? 0), 0));
  const downs = dates.map((d) => terminals.reduce((s, t) => s + Math.min(0, net.get(`${d}/${t}`) ?? 0), 0));
  const { bottom, top, ticks } = axis(Math.min(0, ...downs), Math.max(0, ...ups));
  const total = dates.reduce((s, d) => s + dayTotal(d), 0);
  const best = dates.reduce((b, d) => (b === null || dayTotal(d) > dayTotal(b) ? d : b), null);
  const desc = nets.length
    ? text.dailyDesc(daily.from, daily.to, terminals.length, money(total, currency), best, money(dayTotal(best), currency))
    : text.dailyNone(daily.from, daily.to);
  const { svg, plot, y } = frame({
    width, title: text.dailyTitle(dates.length), desc, ticks, bottom, top, tickText: (v) => tickMoney(v, currency),
  });
  const slot = (plot.right - plot.left) / Math.max(1, dates.length);
  const bar = Math.max(2, slot * 0.7);
  const every = Math.ceil((5 * FONT * 0.6 + 8) / slot);
  dates.forEach((d, i) => {
    const x = plot.left + i * slot + (slot - bar) / 2;
    let up = 0;
    let down = 0;
    terminals.forEach((t, k) => {
      const v = net.get(`${d}/${t}`);
      if (!v) return;
      const from = v > 0 ? up : down;
      const to = from + v;
      if (v > 0) up = to; else down = to;
      const rect = svgEl("rect", {
        x, width: bar, y: Math.min(y(from), y(to)), height: Math.max(1, Math.abs(y(from) - y(to))),
        fill: colourOf(k), "data-terminal": t, "data-date": d,
      });
      rect.append(svgEl("title", {}, `${d} · ${t} · ${money(v, currency)}`));
      svg.append(rect);
    });
    if ((dates.length - 1 - i) % every === 0) {
      // The last label ends at the edge rather than running past it.
      const half = (5 * FONT * 0.6) / 2;
      const end = x + bar / 2 + half > width;
      svg.append(svgEl("text", {
        x: end ? width - 1 : x + bar / 2, y: HEIGHT - 8, "text-anchor": end ? "end" : "middle", "font-size": FONT, fill: "#5b6570",
      }, d.slice(5)));
    }
  });
  const legend = htmlEl("ul", { class: "legend" }, ...terminals.map((t, k) => {
    const swatch = svgEl("svg", { width: 12, height: 12, "aria-hidden": "true" });
    swatch.append(svgEl("rect", { width: 12, height: 12, rx: 2, fill: colourOf(k) }));
    return htmlEl("li", {}, swatch, document.createTextNode(` ${t}`));
  }));
  const rows = dates.filter((d) => terminals.some((t) => net.has(`${d}/${t}`))).reverse().map((d) => [
    d, ...terminals.map((t) => (net.has(`${d}/${t}`) ? money(net.get(`${d}/${t}`), currency) : "—")), money(dayTotal(d), currency),
  ]);
  const other = daily.nets.filter((n) => n.currency !== currency)
    .map((n) => [n.business_date, ...terminals.map((t) => (t === n.terminal_id ? money(n.net_amount, n.currency) : "—")), money(n.net_amount, n.currency)]);
  return {
    svg, legend, currency,
    table: table(text.dailyTitle(dates.length), [text.businessDate, ...terminals, text.total], [...rows, ...other]),
    empty: nets.length === 0,
  };
}

/** Approved sales per local hour of one day: bars of the amount, the count in each bar's
 * title and in the table. `hourly` is the answer of GET /v1/console/hourly. */
export function hourlyPicture(hourly, { width, text, money, tickMoney, currency: fallback }) {
  const all = hourly.hours.flatMap((h) => h.sales);
  const currency = all[0]?.currency ?? fallback;
  const of = (h) => h.sales.find((s) => s.currency === currency) ?? { count: 0, amount: 0 };
  const { bottom, top, ticks } = axis(0, Math.max(0, ...hourly.hours.map((h) => of(h).amount)));
  const count = hourly.hours.reduce((s, h) => s + of(h).count, 0);
  const amount = hourly.hours.reduce((s, h) => s + of(h).amount, 0);
  const busiest = hourly.hours.reduce((b, h) => (of(h).amount > (b ? of(b).amount : 0) ? h : b), null);
  const desc = count
    ? text.hourlyDesc(hourly.date, count, money(amount, currency), busiest.hour, of(busiest).count, money(of(busiest).amount, currency))
    : text.hourlyNone(hourly.date);
  const { svg, plot, y } = frame({
    width, title: text.hourlyTitle(hourly.date), desc, ticks, bottom, top, tickText: (v) => tickMoney(v, currency),
  });
  const slot = (plot.right - plot.left) / Math.max(1, hourly.hours.length);
  const bar = Math.max(2, slot * 0.7);
  const every = slot * 4 >= 2 * FONT * 0.6 + 8 ? 3 : 6;
  hourly.hours.forEach((h, i) => {
    const x = plot.left + i * slot + (slot - bar) / 2;
    const s = of(h);
    if (s.amount > 0) {
      const rect = svgEl("rect", { x, width: bar, y: y(s.amount), height: Math.max(1, y(0) - y(s.amount)), fill: colourOf(0), "data-hour": h.hour });
      rect.append(svgEl("title", {}, `${String(h.hour).padStart(2, "0")}:00 · ${text.count(s.count)} · ${money(s.amount, currency)}`));
      svg.append(rect);
    }
    if (i % every === 0) {
      svg.append(svgEl("text", { x: x + bar / 2, y: HEIGHT - 8, "text-anchor": "middle", "font-size": FONT, fill: "#5b6570" }, String(h.hour).padStart(2, "0")));
    }
  });
  const rows = hourly.hours.filter((h) => h.sales.length).flatMap((h) => h.sales.map((s) => [
    `${String(h.hour).padStart(2, "0")}:00`, String(s.count), money(s.amount, s.currency),
  ]));
  return {
    svg, currency,
    table: table(text.hourlyTitle(hourly.date), [text.hour, text.salesCount, text.amount], rows),
    empty: count === 0,
  };
}
