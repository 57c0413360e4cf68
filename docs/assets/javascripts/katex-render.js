// Renders math with the self-hosted KaTeX (no CDN). Arithmatex emits \( \) and \[ \];
// notebook pages (mkdocs-jupyter) carry raw $ and $$, so both are handled.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    throwOnError: false,
  });
});
