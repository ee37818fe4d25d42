// While a log verification runs, show its progress without a click: reload every few seconds.
// Without script the page offers a link that does the same.
"use strict";
window.setTimeout(function () { window.location.reload(); }, 3000);
