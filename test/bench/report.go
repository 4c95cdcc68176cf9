package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Targets the results are checked against.
const (
	targetKeyVsKS       = 2.0 // M-key throughput ≥ 2 × KS
	targetKeyBrokerVsKS = 1.0 // M-key's broker CPU per record ≤ KS's
	targetKeyCPU        = 3.0 // M-key process CPU ≤ 3 s per 1M records
	targetKeyVsL2       = 0.9 // M-key throughput ≥ 0.9 × L2
	targetPartitionVsW0 = 5.0 // M-partition throughput ≥ 5 × W0
	routerWithin        = 0.9 // M-router ≥ 0.9 × M-key makes the router the default driver
	targetP99VsL2       = 1.5 // each M p99 ≤ 1.5 × L2's p99 at the same offered rate
	targetPeakRSS       = 256 << 20
	targetRSSRecord     = 1_000_000 // the RSS target is for draining 1M records
)

func find(rs []Result, name string) *Result {
	for i := range rs {
		if rs[i].Name == name {
			return &rs[i]
		}
	}
	return nil
}

// addRatios fills in the ratios to L2 and W0.
func addRatios(rs []Result) {
	l2, w0 := find(rs, "L2"), find(rs, "W0")
	for i := range rs {
		r := &rs[i]
		if l2 != nil && l2.MsgsPerSec > 0 {
			r.ThroughputVsL2 = r.MsgsPerSec / l2.MsgsPerSec
		}
		if w0 != nil && w0.MsgsPerSec > 0 {
			r.ThroughputVsW0 = r.MsgsPerSec / w0.MsgsPerSec
		}
		if l2 != nil && l2.P99Ms > 0 && r.P99Ms > 0 {
			r.P99VsL2 = r.P99Ms / l2.P99Ms
		}
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

func brokerLabel(m runMeta) string {
	if m.Embedded {
		return "embedded (kfake, in the parent process)"
	}
	return m.Broker
}

// formatTable is the text report: the table (each figure the median of the
// rounds, if there were several), the rounds one by one, the targets and
// the notes. rs is medianResults(rounds).
func formatTable(rs []Result, rounds [][]Result, m runMeta) string {
	var b strings.Builder
	bytesPer := float64(m.Preload.Bytes) / float64(max(1, m.Preload.Records))
	fmt.Fprintf(&b, "Millrace benchmark: broker %s; %d records of %.0f B (%d pass the filter), %d partitions; %d CPUs (%s), %s\n",
		brokerLabel(m), m.Records, bytesPer, m.Preload.Expected, partitions, m.CPUs, m.CPUModel, m.GoVersion)
	if m.OfferedRate > 0 {
		source := "half of L2's drain throughput"
		if m.RateGiven {
			source = "set by --rate"
		}
		fmt.Fprintf(&b, "Latency phases: %s each at %.0f records/s offered (%s)", m.LatencyDuration, m.OfferedRate, source)
		if m.LowRate > 0 {
			fmt.Fprintf(&b, ", and at %.0f records/s", m.LowRate)
		}
		b.WriteString("; ≥: over 1% of the records had not arrived 5 s after the phase (overloaded), the value is a lower bound.\n")
	}
	if m.Rounds > 1 {
		fmt.Fprintf(&b, "%d rounds: every scenario drained the input once per round; each figure is the median of its rounds (ratios: of the rounds' ratios), peak RSS the highest, * and ≥ if any round had them.\n", m.Rounds)
	}
	b.WriteString("*: drain stopped early (W0's record cap or the time limit); throughput from the records done. start s: from the scenario's start to its first record (included in msgs/s).\n")
	if m.Isolated {
		b.WriteString("Each scenario ran in its own child process: CPU and peak RSS are that process's (KS: its java process's)")
		if m.Embedded {
			b.WriteString("; the embedded broker's CPU is shown apart")
		}
		b.WriteString(".\n")
	}
	if m.BrokerCPU != "" {
		fmt.Fprintf(&b, "broker CPU s/1M: %s", m.BrokerCPU)
		if m.BrokerIdleCores > 0 {
			fmt.Fprintf(&b, "; idle, before the first scenario, it used %.3f cores, which every second of a drain includes", m.BrokerIdleCores)
		}
		b.WriteString(".\n")
	}
	for _, sk := range m.Skipped {
		fmt.Fprintf(&b, "Left out: %s\n", sk)
	}
	b.WriteString("\n")
	lowHead := "p99 ms low"
	if m.LowRate > 0 {
		lowHead = fmt.Sprintf("p99 ms @%s/s", shortRate(m.LowRate))
	}
	head := []string{"scenario", "msgs/s", "MB/s", "start s", "CPU s/1M", "broker CPU s/1M", "of it JIT", "peak RSS MiB", "p50 ms", "p99 ms", lowHead, "vs L2", "vs W0", "p99 vs L2"}
	rows := [][]string{head}
	for _, r := range rs {
		broker := "-"
		if r.BrokerCPUSecPerMillion > 0 {
			broker = fmt.Sprintf("%.2f", r.BrokerCPUSecPerMillion)
		}
		jit := "-"
		if r.BrokerJITMeasured {
			jit = fmt.Sprintf("%.2f", r.BrokerJITSecPerMillion)
		}
		p99 := fmt.Sprintf("%.1f", r.P99Ms)
		if r.Overloaded {
			p99 = "≥" + p99
		}
		low := "-"
		if r.LowRate > 0 {
			low = fmt.Sprintf("%.1f", r.LowP99Ms)
			if r.LowOverloaded {
				low = "≥" + low
			}
		}
		name := r.Name
		if r.Capped {
			name += "*"
		}
		rows = append(rows, []string{name,
			fmt.Sprintf("%.0f", r.MsgsPerSec), fmt.Sprintf("%.1f", r.MBPerSec), fmt.Sprintf("%.2f", r.StartupSec), fmt.Sprintf("%.2f", r.CPUSecPerMillion),
			broker, jit, fmt.Sprintf("%.0f", mib(r.PeakRSSBytes)), fmt.Sprintf("%.1f", r.P50Ms), p99, low,
			ratio(r.ThroughputVsL2), ratio(r.ThroughputVsW0), ratio(r.P99VsL2)})
	}
	widths := make([]int, len(head))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for ri, row := range rows {
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		b.WriteString("\n")
		if ri == 0 {
			total := 0
			for _, w := range widths {
				total += w + 2
			}
			b.WriteString(strings.Repeat("-", total-2) + "\n")
		}
	}
	writeRounds(&b, rounds)
	writeRequests(&b, rs)
	b.WriteString("\nTargets:\n")
	for _, line := range checkTargets(rs, rounds, m) {
		b.WriteString("  " + line + "\n")
	}
	var notes []string
	for _, r := range rs {
		for _, n := range r.Notes {
			notes = append(notes, r.Name+": "+n)
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range notes {
			b.WriteString("  " + n + "\n")
		}
	}
	return b.String()
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// checkTargets states each target and whether this run met it. With
// several rounds, a target on a ratio of two scenarios is judged on the
// median of the rounds' ratios, and one on a figure on the median of its
// rounds (rs holds the medians); the line lists the rounds'.
func checkTargets(rs []Result, rounds [][]Result, m runMeta) []string {
	var out []string
	scope := "" // the CPU and RSS targets are for a 1M backlog, whose start-up is a small part
	if m.Records != targetRSSRecord {
		scope = fmt.Sprintf(" (the target is for 1M records; this run drained %d)", m.Records)
	}
	l2, w0, ks, key := find(rs, "L2"), find(rs, "W0"), find(rs, "KS"), find(rs, "M-key")
	var ms []*Result
	for i := range rs {
		if strings.HasPrefix(rs[i].Name, "M-") {
			ms = append(ms, &rs[i])
		}
	}
	if key != nil && ks != nil {
		if vs, med, ok := perRound(rounds, ratioOf("M-key", "KS", msgsPerSec)); ok {
			out = append(out, fmt.Sprintf("M-key throughput ≥ %.0f × KS: %.2f × %s%s", targetKeyVsKS, med, verdict(med >= targetKeyVsKS), roundsNote(vs, "%.2f")))
		}
		if vs, med, ok := perRound(rounds, ratioOf("M-key", "KS", brokerPerM)); ok {
			out = append(out, fmt.Sprintf("M-key broker CPU per 1M ≤ KS's: %.2f vs %.2f s, %.2f × %s%s", key.BrokerCPUSecPerMillion, ks.BrokerCPUSecPerMillion, med, verdict(med <= targetKeyBrokerVsKS), roundsNote(vs, "%.2f")))
		}
		if vs, med, ok := perRound(rounds, ratioOf("M-key", "KS", brokerWorkPerM)); ok {
			out = append(out, fmt.Sprintf("  (information) without the broker's JIT compiler threads: %.2f vs %.2f s, %.2f ×%s", brokerWorkPerM(key), brokerWorkPerM(ks), med, roundsNote(vs, "%.2f")))
		}
	}
	if key != nil {
		vs, med, _ := perRound(rounds, figureOf("M-key", cpuPerM))
		out = append(out, fmt.Sprintf("M-key CPU ≤ %.0f s per 1M records: %.2f s %s%s%s", targetKeyCPU, med, verdict(med <= targetKeyCPU), roundsNote(vs, "%.2f"), scope))
	}
	if key != nil && l2 != nil {
		vs, med, _ := perRound(rounds, ratioOf("M-key", "L2", msgsPerSec))
		out = append(out, fmt.Sprintf("M-key throughput ≥ %.1f × L2: %.2f × %s%s", targetKeyVsL2, med, verdict(med >= targetKeyVsL2), roundsNote(vs, "%.2f")))
	}
	if w0 != nil && find(rs, "M-partition") != nil {
		vs, med, _ := perRound(rounds, ratioOf("M-partition", "W0", msgsPerSec))
		out = append(out, fmt.Sprintf("M-partition throughput ≥ %.0f × W0: %.1f × %s%s", targetPartitionVsW0, med, verdict(med >= targetPartitionVsW0), roundsNote(vs, "%.1f")))
	}
	if ks != nil && ks.MsgsPerSec > 0 {
		// Kafka Streams is what a data engineer picks today: how each
		// Millrace scenario compares with it.
		for _, r := range ms {
			line := fmt.Sprintf("(information) %s / KS: throughput %.2f (steady %.2f), CPU per record %.2f",
				r.Name, r.MsgsPerSec/ks.MsgsPerSec, safeDiv(r.SteadyMsgsPerSec, ks.SteadyMsgsPerSec), safeDiv(r.CPUSecPerMillion, ks.CPUSecPerMillion))
			if r.LowP99Ms > 0 && ks.LowP99Ms > 0 {
				line += fmt.Sprintf(", p99 at %s/s %.2f", shortRate(r.LowRate), r.LowP99Ms/ks.LowP99Ms)
			}
			out = append(out, line)
		}
	}
	if k, rt := find(rs, "M-key"), find(rs, "M-router"); k != nil && rt != nil && k.MsgsPerSec > 0 {
		// The router becomes the default driver if it is within 10% of
		// the direct one (docs/architecture.md).
		ratio := rt.MsgsPerSec / k.MsgsPerSec
		out = append(out, fmt.Sprintf("(information) M-router / M-key (same engine, router vs direct driver): %.2f; within %.0f%%: %s",
			ratio, 100*(1-routerWithin), verdict(ratio >= routerWithin)))
	}
	if l2 != nil && l2.P99Ms > 0 {
		for _, r := range ms {
			switch {
			case r.P99Ms <= 0:
			case m.RateGiven:
				// The target is at half of L2's peak; another rate informs.
				out = append(out, fmt.Sprintf("(information) %s p99 at %s/s (--rate): %.1f ms = %.2f × L2's %.1f ms", r.Name, shortRate(m.OfferedRate), r.P99Ms, r.P99VsL2, l2.P99Ms))
			default:
				out = append(out, fmt.Sprintf("%s p99 ≤ %.1f × L2 p99 (%.1f ms): %.1f ms = %.2f × %s", r.Name, targetP99VsL2, l2.P99Ms, r.P99Ms, r.P99VsL2, verdict(r.P99VsL2 <= targetP99VsL2 && !r.Overloaded)))
			}
		}
	}
	if l2 != nil && l2.LowP99Ms > 0 {
		for _, r := range ms {
			if r.LowP99Ms > 0 {
				out = append(out, fmt.Sprintf("(information) %s p99 at %s/s: %.1f ms = %.2f × L2's %.1f ms", r.Name, shortRate(r.LowRate), r.LowP99Ms, r.LowP99Ms/l2.LowP99Ms, l2.LowP99Ms))
			}
		}
	}
	for _, r := range ms {
		what := "peak RSS"
		if !r.Isolated {
			what = "peak RSS growth"
		}
		v := r.PeakRSSBytes
		if !r.Isolated {
			v = r.RSSDeltaBytes
		}
		out = append(out, fmt.Sprintf("%s %s ≤ 256 MiB: %.0f MiB %s%s", r.Name, what, mib(v), verdict(v <= targetPeakRSS), scope))
	}
	return out
}

// Bar colours: the loops grey, plain Watermill red, Kafka Streams green,
// Millrace blue.
func barColor(name string) color.Color {
	switch {
	case strings.HasPrefix(name, "L"):
		return color.RGBA{R: 150, G: 150, B: 150, A: 255}
	case name == "W0":
		return color.RGBA{R: 214, G: 96, B: 77, A: 255}
	case name == "KS":
		return color.RGBA{R: 76, G: 154, B: 92, A: 255}
	default:
		return color.RGBA{R: 49, G: 110, B: 180, A: 255}
	}
}

// shortRate writes 1000 as 1k, 355571 as 356k.
func shortRate(v float64) string {
	switch {
	case v >= 10_000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.1fk", v/1000)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// drawChart writes a PNG with bar charts per scenario: drain throughput,
// CPU per 1M records (the scenario's process, and the broker's stacked on
// it when known), p99 latency at half of L2's throughput, and p99 latency
// at the low rate.
func drawChart(path string, rs []Result, m runMeta) error {
	names := make([]string, len(rs))
	thr := make([]float64, len(rs))
	thrLabels := make([]string, len(rs))
	p99 := make([]float64, len(rs))
	p99Labels := make([]string, len(rs))
	low := make([]float64, len(rs))
	lowLabels := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
		thr[i] = r.MsgsPerSec / 1000
		thrLabels[i] = shortRate(r.MsgsPerSec)
		if r.Capped {
			thrLabels[i] += "*"
		}
		p99[i] = r.P99Ms
		p99Labels[i] = fmtMs(r.P99Ms)
		if r.Overloaded {
			p99Labels[i] = "≥" + p99Labels[i] + "\noverloaded"
		}
		low[i] = r.LowP99Ms
		lowLabels[i] = fmtMs(r.LowP99Ms)
		if r.LowOverloaded {
			lowLabels[i] = "≥" + lowLabels[i] + "\noverloaded"
		}
	}
	var plots []*plot.Plot
	p, err := barPlot(names, thr, thrLabels, 0, "Drain throughput",
		fmt.Sprintf("thousand records/s (%d records; * stopped early)", m.Records))
	if err != nil {
		return err
	}
	plots = append(plots, p)
	if p, err = cpuPlot(rs); err != nil {
		return err
	}
	plots = append(plots, p)
	if m.OfferedRate > 0 {
		// A p99 far above the others (an overloaded scenario) is clipped so
		// that the rest stay readable; its label gives the real value.
		p, err := barPlot(names, p99, p99Labels, clipAt(p99), "p99 latency at half of L2's throughput",
			fmt.Sprintf("ms, at %s records/s offered", shortRate(m.OfferedRate)))
		if err != nil {
			return err
		}
		plots = append(plots, p)
	}
	if m.LowRate > 0 {
		p, err := barPlot(names, low, lowLabels, clipAt(low), "p99 latency at a low rate",
			fmt.Sprintf("ms, at %s records/s offered", shortRate(m.LowRate)))
		if err != nil {
			return err
		}
		plots = append(plots, p)
	}
	// 14 cm a panel, wider for many scenarios so that their names fit.
	panel := max(14*vg.Centimeter, vg.Length(len(rs))*1.9*vg.Centimeter)
	w := vg.Length(len(plots)) * panel
	const h = 12 * vg.Centimeter
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	header := fmt.Sprintf("Millrace benchmark — broker: %s; %d CPUs; %s", brokerLabel(m), m.CPUs, m.Date[:10])
	if m.Rounds > 1 {
		header += fmt.Sprintf("; medians of %d rounds", m.Rounds)
	}
	titleStyle := text.Style{Color: color.Black, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YTop}
	titleStyle.Font.Size = vg.Points(13)
	dc.FillText(titleStyle, vg.Point{X: w / 2, Y: h - vg.Millimeter*3}, header)
	body := draw.Crop(dc, vg.Millimeter*2, -vg.Millimeter*4, vg.Millimeter*2, -vg.Millimeter*12)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Millimeter * 14}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, body)
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// brokerShade is the broker's part of a CPU bar.
var brokerShade = color.RGBA{R: 222, G: 190, B: 120, A: 255}

// cpuPlot is CPU seconds per 1M records per scenario: its process's, with
// the broker's stacked on top (lighter) when it was measured.
func cpuPlot(rs []Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "CPU per 1M records"
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.Text = "CPU s: scenario's process + broker (on top)"
	p.Y.Min = 0
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	names := make([]string, len(rs))
	totals := make([]float64, len(rs))
	anyBroker := false
	for i, r := range rs {
		names[i] = r.Name
		totals[i] = r.CPUSecPerMillion + r.BrokerCPUSecPerMillion
		anyBroker = anyBroker || r.BrokerCPUSecPerMillion > 0
	}
	clip := clipAt(totals)
	top := slices.Max(append([]float64{0}, totals...))
	if clip > 0 {
		top = clip
	}
	if top <= 0 {
		top = 1
	}
	var legendBar *plotter.BarChart
	for i, r := range rs {
		own, broker := r.CPUSecPerMillion, r.BrokerCPUSecPerMillion
		if clip > 0 {
			own = min(own, clip)
			broker = min(broker, clip-own)
		}
		bc, err := plotter.NewBarChart(plotter.Values{own}, vg.Points(34))
		if err != nil {
			return nil, err
		}
		bc.XMin = float64(i)
		bc.Color = barColor(r.Name)
		bc.LineStyle.Width = 0
		p.Add(bc)
		if broker > 0 {
			bb, err := plotter.NewBarChart(plotter.Values{broker}, vg.Points(34))
			if err != nil {
				return nil, err
			}
			bb.XMin = float64(i)
			bb.Color = brokerShade
			bb.LineStyle.Width = 0
			bb.StackOn(bc)
			p.Add(bb)
			legendBar = bb
		}
		label := fmt.Sprintf("%.1f", r.CPUSecPerMillion)
		if r.CPUSecPerMillion < 10 {
			label = fmt.Sprintf("%.2f", r.CPUSecPerMillion)
		}
		if r.BrokerCPUSecPerMillion > 0 {
			label += fmt.Sprintf("\n+%.2f", r.BrokerCPUSecPerMillion)
		}
		lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: float64(i), Y: own + broker}}, Labels: []string{label}})
		if err != nil {
			return nil, err
		}
		for j := range lbl.TextStyle {
			lbl.TextStyle[j].XAlign = draw.XCenter
			lbl.TextStyle[j].YAlign = draw.YBottom
			lbl.TextStyle[j].Font.Size = vg.Points(8.5)
		}
		lbl.Offset = vg.Point{Y: vg.Points(2)}
		p.Add(lbl)
	}
	if anyBroker && legendBar != nil {
		p.Legend.Add("broker", legendBar)
		p.Legend.Top = true
		p.Legend.TextStyle.Font.Size = vg.Points(9)
	}
	p.Y.Max = top * 1.25
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	return p, nil
}

func fmtMs(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.1f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	default:
		return fmt.Sprintf("%.1f ms", v)
	}
}

// clipAt returns the axis maximum for values where one is more than five
// times the next largest, else 0 (no clipping).
func clipAt(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s) < 2 || s[len(s)-2] <= 0 {
		return 0
	}
	if s[len(s)-1] > 5*s[len(s)-2] {
		return 2 * s[len(s)-2]
	}
	return 0
}

// barPlot is one bar per scenario, labelled with its value; clip > 0 cuts
// the axis (and taller bars) there.
func barPlot(names []string, vals []float64, labels []string, clip float64, title, ylabel string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, v)
	}
	if clip > 0 {
		top = clip
	}
	if top <= 0 {
		top = 1
	}
	for i, v := range vals {
		if clip > 0 && v > clip {
			v = clip
		}
		bc, err := plotter.NewBarChart(plotter.Values{v}, vg.Points(34))
		if err != nil {
			return nil, err
		}
		bc.XMin = float64(i)
		bc.Color = barColor(names[i])
		bc.LineStyle.Width = 0
		p.Add(bc)
		lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: float64(i), Y: v}}, Labels: []string{labels[i]}})
		if err != nil {
			return nil, err
		}
		for j := range lbl.TextStyle {
			lbl.TextStyle[j].XAlign = draw.XCenter
			lbl.TextStyle[j].YAlign = draw.YBottom
			lbl.TextStyle[j].Font.Size = vg.Points(8.5)
		}
		lbl.Offset = vg.Point{Y: vg.Points(2)}
		p.Add(lbl)
	}
	p.Y.Max = top * 1.18
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	return p, nil
}

// writeRequests lists what the counted scenarios' clients asked of the
// brokers during the drain (clientRequests), per million input records.
func writeRequests(b *strings.Builder, rs []Result) {
	var lines []string
	for _, r := range rs {
		if r.ProduceRequestsPerMillion > 0 || r.FetchRequestsPerMillion > 0 {
			lines = append(lines, fmt.Sprintf("  %-12s %8.0f %9.0f %9.1f %7.0f %8.0f", r.Name,
				r.ProduceRequestsPerMillion, r.BatchesPerMillion, r.RecordsPerBatch, r.FetchRequestsPerMillion, r.CommitRequestsPerMillion))
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("\nClient requests during the drain, per 1M input records (franz-go hooks; W0 and KS are not counted): produce requests, record batches in them, records per batch, fetches, commits.\n")
	fmt.Fprintf(b, "  %-12s %8s %9s %9s %7s %8s\n", "scenario", "produce", "batches", "recs/bat", "fetch", "commit")
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
}
