"""A run's report: its page (`page`), plots (`plots`) and terminal tables (`text`)."""
