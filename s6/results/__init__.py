"""Part 2's results, read back for the notebook: the seed record (results/seeds.json) and its tables, a screen's
sizes (frontier), and the plots of both and of one trained model's mistakes (analysis, plots). What writes README's
figures from them is tools/report.py."""
