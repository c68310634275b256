// Static explorer: show the precomputed frame that matches the controls.
// The frames (figure and numbers for each setting) were computed by nnlab when the
// notebook ran; nothing is calculated here. Frames exist for every combination of the
// "grid" controls, while each other control moves alone: when a setting has no frame,
// the other non-grid controls return to their defaults. A control that follows another
// (a weight's value, a loss's prediction) offers only the positions allowed with the
// leader's value, and moves to its start position when the reader picks the leader.
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
        if (input.tagName === "SELECT") continue;
        const label = JSON.parse(input.dataset.labels)[input.value];
        input.parentElement.querySelector("output").textContent = label;
        // A screen reader says the value, not the slider's position among the values.
        input.setAttribute("aria-valuetext", label);
      }
      // The alt text says what the figure shows and its settings, for a screen reader.
      image.alt = `${image.dataset.subject}. Settings: ${inputs.map(setting).join(", ")}`;
    }

    function setting(input) {
      const name = input.parentElement.firstChild.textContent.trim();   // its label's text
      const value = input.tagName === "SELECT" ? input.selectedOptions[0].text
        : JSON.parse(input.dataset.labels)[input.value];
      return `${name} ${value}`;
    }

    function follow(leader, picked) {
      data.controls.forEach((control, i) => {
        if (!control.follow || inputs[control.follow[0]] !== leader) return;
        const [low, high, start] = control.follow[1][leader.value];
        inputs[i].min = low;   // the browser moves the value inside the new bounds
        inputs[i].max = high;
        if (picked && start !== null) inputs[i].value = start;
      });
    }

    for (const input of inputs) {
      follow(input, false);
      input.addEventListener("input", () => {
        follow(input, true);
        show(input);
      });
    }
  }
})();
