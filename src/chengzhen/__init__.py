"""chengzhen (城镇) — the work platform of urban and town development offices."""
