// response_mode=form_post: submit the response to the agency as soon as the page loads.
document.addEventListener("DOMContentLoaded", function () {
  document.getElementById("form-post").submit();
});
