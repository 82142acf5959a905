"""The main views: scatter plot, point cloud, log-likelihood strip, parameter table,
controls, and their shared style and palette."""
