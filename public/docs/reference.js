// The reference's operation filter. The page reads fine without it: the filter stays hidden.
const box = document.querySelector(".filter");
const input = document.getElementById("filter");

function apply() {
  const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
  for (const section of document.querySelectorAll("section.tag")) {
    let shown = 0;
    for (const op of section.querySelectorAll("article.operation")) {
      op.hidden = !words.every((word) => op.dataset.search.includes(word));
      if (!op.hidden) shown++;
    }
    section.hidden = shown === 0;
  }
  for (const link of document.querySelectorAll("nav li li")) {
    const target = document.getElementById(link.querySelector("a").hash.slice(1));
    link.hidden = Boolean(target?.hidden);
  }
}

if (box && input) {
  box.hidden = false;
  input.addEventListener("input", apply);
}
