"""The pages of the sales area, one module per part."""
