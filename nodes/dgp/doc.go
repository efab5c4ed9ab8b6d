// Package dgp owns the deep Gaussian process regressor.
package dgp
