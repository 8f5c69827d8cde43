"""The `cutscenes` command: an operator's and developer's tool, not part of the
product package (`shared/`), which never imports it."""
