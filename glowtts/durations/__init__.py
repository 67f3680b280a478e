"""Stage 4: MAS durations of a trained model and the separate duration-predictor stage."""
