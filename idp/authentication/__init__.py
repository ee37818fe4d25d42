"""Who the citizen is: passwords, the sign-in on an interaction, and the throttle on guessing."""
