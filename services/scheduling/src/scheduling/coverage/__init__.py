"""Coverage: invited, attended, deferred, no-show and the rate, and which units have finished their round."""
