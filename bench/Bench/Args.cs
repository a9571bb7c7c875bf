using System.Diagnostics;
using System.Globalization;

namespace Reference.Bench;

/// <summary>"--name value" options after the command name.</summary>
public sealed class Args(string[] args)
{
    public string Command => args.Length > 0 ? args[0] : "";

    public string Get(string name, string fallback)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public int Get(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public double Get(string name, double fallback) => double.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public string[] List(string name, string fallback) => Get(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Starts this benchmark program again as a child process (separate processes measure memory and scaling).</summary>
public static class SelfProcess
{
    public static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("Could not start a child benchmark process.");
    }

    /// <summary>Reads lines until one starts with <paramref name="prefix"/> and returns the rest of it.</summary>
    public static string ReadLineStartingWith(Process process, string prefix, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var read = process.StandardOutput.ReadLineAsync();
            if (!read.Wait(deadline - DateTime.UtcNow))
            {
                break;
            }

            var line = read.Result ?? throw new InvalidOperationException($"The child benchmark process ended before printing '{prefix}'.");
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line[prefix.Length..];
            }
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"The child benchmark process did not print '{prefix}' within {timeout}.");
    }
}
