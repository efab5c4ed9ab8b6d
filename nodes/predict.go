package nodes

import (
	"fmt"
	"math"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/table"
	"gonum.org/v1/gonum/stat/distuv"
)

type predictConfig struct {
	Model    lang.Ref `attr:"model,required" accepts:"model" doc:"The regressor, e.g. boost.xgb."`
	Train    lang.Ref `attr:"train,required" accepts:"table" doc:"The table the model is fitted on (its target column is learned)."`
	Data     lang.Ref `attr:"data,required" accepts:"table" doc:"The rows to predict, e.g. candidate compositions without a measured value, or a fixed test split."`
	Features []string `attr:"features" doc:"Feature columns; default every numeric column of train except the target. data must have them too."`
	Interval float64  `attr:"interval" doc:"Level of the central predictive interval written for models with a predictive variance."`
}

func (c *predictConfig) Validate() error {
	if !(c.Interval > 0 && c.Interval < 1) {
		return &lang.AttrError{Attr: "interval", Summary: fmt.Sprintf("level %v", c.Interval), Detail: "The interval level is a probability strictly between 0 and 1, e.g. 0.9."}
	}
	return nil
}

func registerPredict(r *Registry) {
	Register(r, Def[predictConfig]{
		Name: "predict",
		Doc: "Fits a regressor on one table and predicts the rows of another. The result is a table with the row ids, " +
			"`prediction`, and for models with a predictive variance `sd`, `lower` and `upper` (the central interval); " +
			"when data has the target column it is kept as `measured`, with `residual` = measured − prediction.",
		Version:  1,
		Output:   "table",
		Seeded:   true,
		Defaults: predictConfig{Interval: 0.9},
		Run:      runPredict,
	})
}

func runPredict(c *Context, cfg *predictConfig) (Value, error) {
	models, err := c.Models([]lang.Ref{cfg.Model})
	if err != nil {
		return nil, err
	}
	train, err := c.Table(cfg.Train)
	if err != nil {
		return nil, err
	}
	data, err := c.Table(cfg.Data)
	if err != nil {
		return nil, err
	}
	X, y, features, err := learningData(c, cfg.Train, train, cfg.Features, true)
	if err != nil {
		return nil, err
	}
	// The rows to predict need the same features but not the target.
	Xq, _, _, err := learningData(c, cfg.Data, data, features, false)
	if err != nil {
		return nil, err
	}
	pred, err := models[0].Regressor.Fit(c, X, y, c.Rand("fit"))
	if err != nil {
		return nil, fmt.Errorf("fitting %s: %w", cfg.Model.Addr, err)
	}
	mean, variance := pred.Predict(Xq)
	out := &table.Table{IDs: data.IDs, Cols: []*table.Column{{Name: "prediction", Num: mean}}, Target: ""}
	if variance != nil {
		z := distuv.UnitNormal.Quantile(0.5 + cfg.Interval/2)
		sd := make([]float64, len(mean))
		lo := make([]float64, len(mean))
		hi := make([]float64, len(mean))
		for i := range mean {
			sd[i] = math.Sqrt(variance[i])
			lo[i], hi[i] = mean[i]-z*sd[i], mean[i]+z*sd[i]
		}
		out.Cols = append(out.Cols, &table.Column{Name: "sd", Num: sd}, &table.Column{Name: "lower", Num: lo}, &table.Column{Name: "upper", Num: hi})
	}
	if col := data.Col(train.Target); col != nil && col.IsNum() {
		res := make([]float64, len(mean))
		for i := range mean {
			res[i] = col.Num[i] - mean[i]
		}
		out.Cols = append(out.Cols, &table.Column{Name: "measured", Num: col.Num}, &table.Column{Name: "residual", Num: res})
	}
	if data.Formula != "" {
		out.Cols = append([]*table.Column{data.Col(data.Formula)}, out.Cols...)
		out.Formula = data.Formula
	}
	return out, out.Validate()
}
