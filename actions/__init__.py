"""Custom actions of the Promptlink Assist bot, served by the rasa-sdk action server."""
