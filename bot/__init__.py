"""Rasa glue: the backend's input channel, endpoint/credential templates, model management."""
