package cli

import "time"

func parseDuration(flag, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, usageErr("%s %q: use a duration such as 10s", flag, s)
	}
	return d, nil
}
