"""Domain services: async, keyword-only, own their transactions' work, raise typed errors."""
