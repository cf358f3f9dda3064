"""Pages of the automation app: task definitions and rules (set-up, for managers and administrators),
a follow-up as its holder sees it, the status dashboard, and overrides. Thin: parse, call a selector or
service, render."""
