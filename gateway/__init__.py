"""The composition root: builds the web app and the command line from every package."""
