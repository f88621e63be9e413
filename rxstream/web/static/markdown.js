// A small markdown renderer for streamed replies: paragraphs, headings, lists, code
// fences, inline code, bold and italics. Everything is HTML-escaped first, so model output
// can never inject markup. Unclosed constructs (a fence still streaming) render as they are.
"use strict";
window.rxMarkdown = (() => {
  const escapeHtml = (s) =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

  const inline = (s) =>
    escapeHtml(s)
      .replace(/`([^`]+)`/g, "<code>$1</code>")
      .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
      .replace(/(^|[^*\w])\*([^*\s][^*]*?)\*(?!\w)/g, "$1<em>$2</em>");

  function render(src) {
    const out = [];
    let para = [];
    let list = null; // {tag, items}
    let code = null; // lines of an open fence
    const flushPara = () => {
      if (para.length) out.push("<p>" + para.map(inline).join("<br>") + "</p>");
      para = [];
    };
    const flushList = () => {
      if (list) out.push(`<${list.tag}>` + list.items.map((i) => `<li>${inline(i)}</li>`).join("") + `</${list.tag}>`);
      list = null;
    };
    for (const line of src.split("\n")) {
      if (code !== null) {
        if (/^\s*```/.test(line)) {
          out.push("<pre><code>" + escapeHtml(code.join("\n")) + "</code></pre>");
          code = null;
        } else code.push(line);
        continue;
      }
      let m;
      if (/^\s*```/.test(line)) {
        flushPara(); flushList(); code = [];
      } else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        flushPara(); flushList();
        out.push(`<h${m[1].length + 2}>${inline(m[2])}</h${m[1].length + 2}>`.replace(/h([89])/g, "h6"));
      } else if ((m = /^\s*[-*+]\s+(.*)$/.exec(line)) || (m = /^\s*\d+[.)]\s+(.*)$/.exec(line))) {
        flushPara();
        const tag = /^\s*\d/.test(line) ? "ol" : "ul";
        if (list && list.tag !== tag) flushList();
        if (!list) list = { tag, items: [] };
        list.items.push(m[1]);
      } else if (!line.trim()) {
        flushPara(); flushList();
      } else {
        flushList(); para.push(line);
      }
    }
    flushPara(); flushList();
    if (code !== null) out.push("<pre><code>" + escapeHtml(code.join("\n")) + "</code></pre>");
    return out.join("");
  }
  return { render, escapeHtml };
})();
