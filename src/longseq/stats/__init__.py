"""The statistics of the answer: the verdict (paired intervals, the recommendation), its
at-a-glance table and forest plot, multiple comparisons with the best (`mcb`), the error
rates of both checked on simulated studies (`calibration`), and the cost of an arm (`flops`)."""
