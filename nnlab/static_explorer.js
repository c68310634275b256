// Static explorer: show the precomputed frame that matches the controls.
// The frames (figure and numbers for each setting) were computed by nnlab when the
// notebook ran; nothing is calculated here. Frames exist for every combination of the
// "grid" controls, while each other control moves alone: when a setting has no frame,
// the other non-grid controls return to their defaults.
(function () {
  for (const root of document.querySelectorAll(".nnlab-static:not([data-ready])")) {
    root.dataset.ready = "true";
    const data = JSON.parse(root.querySelector("script.nnlab-frames").textContent);
    const inputs = data.controls.map((c) => root.querySelector(`[name="${c.name}"]`));
    const image = root.querySelector("img");
    const numbers = root.querySelector(".nnlab-static-numbers");
    const key = () => inputs.map((input) => input.value).join(",");

    function show(moved) {
      if (!(key() in data.frames)) {
        data.controls.forEach((control, i) => {
          if (!control.grid && inputs[i] !== moved) inputs[i].value = control.default;
        });
      }
      const [picture, text] = data.frames[key()];
      image.src = data.images[picture];
      numbers.innerHTML = text;
      for (const input of inputs) {
        const readout = input.parentElement.querySelector("output");
        if (readout) readout.textContent = JSON.parse(input.dataset.labels)[input.value];
      }
    }

    for (const input of inputs) input.addEventListener("input", () => show(input));
  }
})();
