# tests: check programs
