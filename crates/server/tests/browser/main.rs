// browser tests: see tests/browser
