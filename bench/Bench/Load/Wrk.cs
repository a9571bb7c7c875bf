using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Reference.Bench.Load;

/// <summary>wrk (Debian package), closed-loop: as many requests as the connections can carry.</summary>
public static partial class Wrk
{
    public sealed record Result(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Errors);

    public static bool IsInstalled => File.Exists("/usr/bin/wrk");

    public static Result Run(string url, int connections, double seconds, int threads = 2)
    {
        var start = new ProcessStartInfo("wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { $"-t{threads}", $"-c{connections}", $"-d{seconds.ToString(CultureInfo.InvariantCulture)}s", "--latency", "--timeout", "5s", url })
        {
            start.ArgumentList.Add(arg);
        }

        using var wrk = Process.Start(start)!;
        var output = wrk.StandardOutput.ReadToEnd();
        if (!wrk.WaitForExit(TimeSpan.FromSeconds(seconds + 30)))
        {
            wrk.Kill();
        }

        var rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var requests = long.Parse(RequestCount().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var errors = Non2xx().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        var socketErrors = SocketErrors().Match(output);
        if (socketErrors.Success)
        {
            errors += socketErrors.Groups.Values.Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture));
        }

        return new Result(Math.Round(rps), Percentile(output, "50%"), Percentile(output, "99%"), requests, errors);
    }

    private static double Percentile(string output, string label)
    {
        var match = Regex.Match(output, @"^\s*" + Regex.Escape(label) + @"\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            return double.NaN;
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return Math.Round(match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value }, 3);
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestCount();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}
