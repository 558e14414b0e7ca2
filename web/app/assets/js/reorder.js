// Reordering by dragging, with a mouse, a pen or a finger: pointer events rather than HTML drag
// and drop, which touch screens do not fire. A mouse drags an item from anywhere on it; a finger
// from its handle only, so swiping elsewhere still scrolls the page. A line shows where the item
// will land; nothing moves until it is dropped. The buttons beside each item stay the keyboard's
// way to reorder.

/** Pixels a press must travel before it is a drag rather than a click or a tap. */
const DRAG_THRESHOLD = 6;

/**
 * Makes the children of `list` matching `selector` reorderable.
 * @param options.handle selector of the part a finger drags by
 * @param options.onMove (from, to) => moves the item at index `from` to index `to`
 */
export function sortable(list, { selector, handle, onMove }) {
  let drag = null;
  let justDragged = false;

  const items = () => [...list.querySelectorAll(`:scope > ${selector}`)];
  const clearMarks = () => {
    for (const item of items()) item.classList.remove('drop-before', 'drop-after', 'drag-source');
  };

  /** The item under the pointer, whose place the dragged one takes. */
  const target = (event) => {
    const under = document.elementFromPoint(event.clientX, event.clientY)?.closest(selector);
    return under && under.parentElement === list ? under : null;
  };

  list.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || event.target.closest('button, input, select, a, label, textarea')) return;
    const item = event.target.closest(selector);
    if (!item || item.parentElement !== list || item.dataset.sortable === 'false') return;
    if (event.pointerType !== 'mouse' && !event.target.closest(handle)) return;
    drag = { item, from: items().indexOf(item), x: event.clientX, y: event.clientY, pointerId: event.pointerId, moving: false, over: null };
  });

  list.addEventListener('pointermove', (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    // A mouse released somewhere the list did not hear it: no drag is left behind.
    if (event.pointerType === 'mouse' && event.buttons === 0) {
      finish(event, false);
      return;
    }
    if (!drag.moving) {
      if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_THRESHOLD) return;
      drag.moving = true;
      list.setPointerCapture(event.pointerId);
      drag.item.classList.add('drag-source');
      list.classList.add('sorting');
    }
    event.preventDefault();
    const over = target(event);
    for (const item of items()) item.classList.remove('drop-before', 'drop-after');
    drag.over = over;
    // Moving forward it lands after the item under the pointer, moving back before it.
    if (over && over !== drag.item) over.classList.add(items().indexOf(over) > drag.from ? 'drop-after' : 'drop-before');
  });

  const finish = (event, drop) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const { from, over, moving } = drag;
    drag = null;
    list.classList.remove('sorting');
    clearMarks();
    if (moving) {
      // The click that ends a drag is not a click on what lies under it.
      justDragged = true;
      setTimeout(() => { justDragged = false; }, 0);
    }
    const to = over ? items().indexOf(over) : -1;
    if (drop && moving && to >= 0 && to !== from) onMove(from, to);
  };
  list.addEventListener('pointerup', (event) => finish(event, true));
  list.addEventListener('pointercancel', (event) => finish(event, false));
  // The list's own capture lost (not a finger's implicit capture passing from the handle to it).
  list.addEventListener('lostpointercapture', (event) => {
    if (event.target === list) finish(event, false);
  });
  // A drag that moved is not also a click on the item.
  list.addEventListener('click', (event) => {
    if (justDragged) event.stopPropagation();
  }, true);
}
