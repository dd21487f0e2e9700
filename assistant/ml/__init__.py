"""The assistant's models: pure PyTorch, no Django import anywhere below here."""
