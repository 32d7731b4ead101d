API_TOKEN = "secret-token-not-for-candidates"
