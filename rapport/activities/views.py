"""Pages of activities: My Home, the calendar, activity details and forms, notes on records."""
