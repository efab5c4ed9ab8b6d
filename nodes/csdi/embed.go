package csdi

import "math"

// stepTable sets dst (length 128) to CSDI's diffusion-step embedding of step t
// (csdi_icr.md §1.4, §5.3): [sin(t·f_0), …, sin(t·f_63), cos(t·f_0), …, cos(t·f_63)] with
// increasing frequencies f_j = 10^{4j/63} (DiffWave), sin and cos concatenated.
func stepTable(dst []float64, t int) {
	for j := 0; j < embHalf; j++ {
		a := float64(t) * math.Pow(10, float64(j)/(embHalf-1)*4)
		dst[j], dst[embHalf+j] = math.Sin(a), math.Cos(a)
	}
}

// noiseTable sets dst (length 128) to the embedding of a continuous noise level, the log
// signal-to-noise ratio ℓ = log(ᾱ/(1−ᾱ)), used by conditioning = "noise_level" in place of
// the step index: [sin(ℓ·g_0), …, sin(ℓ·g_63), cos(ℓ·g_0), …, cos(ℓ·g_63)] with decreasing
// frequencies g_j = 2π·10^{−3j/63}, periods from 1 to 1000 units of ℓ.
//
// CSDI's step table cannot serve a continuous input: its frequencies up to 10⁴ radians per
// step make its features of nearby non-integer inputs unrelated, so a network trained on
// random noise levels could not interpolate between them. These Fourier features are smooth
// in ℓ at every scale from the spacing of adjacent steps of a 50-step schedule (Δℓ ≈ 0.1–0.5
// where ICR truncates) to the whole range of noise levels (about −10 to 10).
func noiseTable(dst []float64, logSNR float64) {
	for j := 0; j < embHalf; j++ {
		a := logSNR * 2 * math.Pi * math.Pow(10, -3*float64(j)/(embHalf-1))
		dst[j], dst[embHalf+j] = math.Sin(a), math.Cos(a)
	}
}
