"""assignment/stores."""
