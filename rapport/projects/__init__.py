"""Projects: an account's piece of work with milestones, tasks, files, notes, expenses and a timeline."""
