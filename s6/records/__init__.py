"""Part 2's records: the seed record, benchmark printouts, the report that writes README's figures, and their plots."""
