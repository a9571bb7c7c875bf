using System.Diagnostics;
using System.Net;
using Reference.Bench.Report;

namespace Reference.Bench.Load;

/// <summary>
/// An open-loop load generator (wrk2-style; Debian has no wrk2): requests are sent on a fixed
/// schedule whether or not earlier ones have answered, and each latency is measured from the time
/// the request was due, not from when it was sent, so a stall is counted against every request it
/// delayed (no coordinated omission). Bounded by count and time.
/// </summary>
public static class FixedRateLoad
{
    public sealed record Result(double TargetRate, double AchievedRate, int Requests, int Errors, int Dropped,
        double P50Ms, double P90Ms, double P99Ms, double MaxMs);

    public static async Task<Result> RunAsync(Uri baseAddress, IReadOnlyList<string> paths, double rate, TimeSpan duration, TimeSpan warmup,
        int maxInFlight = 2000)
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 512,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };

        // Warm-up at the same rate: connections opened, JIT done, caches filled. Not recorded.
        await Schedule(http, paths, rate, warmup, maxInFlight, record: null);
        var latencies = new List<double>();
        var (sent, errors, dropped, elapsed) = await Schedule(http, paths, rate, duration, maxInFlight, latencies);
        return new Result(rate, Math.Round(sent / elapsed.TotalSeconds, 1), sent, errors, dropped,
            Math.Round(Stats.Percentile(latencies, 50), 2), Math.Round(Stats.Percentile(latencies, 90), 2),
            Math.Round(Stats.Percentile(latencies, 99), 2), Math.Round(latencies.DefaultIfEmpty(double.NaN).Max(), 2));
    }

    private static async Task<(int Sent, int Errors, int Dropped, TimeSpan Elapsed)> Schedule(
        HttpClient http, IReadOnlyList<string> paths, double rate, TimeSpan duration, int maxInFlight, List<double>? record)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var inFlight = 0;
        var errors = 0;
        var dropped = 0;
        var pending = new List<Task>(total);
        var samples = new double[total];
        var started = Stopwatch.GetTimestamp();
        var ticksPerRequest = Stopwatch.Frequency / rate;

        // A dedicated thread keeps the schedule: the thread pool is busy finishing responses.
        var dispatcher = new Thread(() =>
        {
            for (var i = 0; i < total; i++)
            {
                var due = started + (long)(i * ticksPerRequest);
                while (Stopwatch.GetTimestamp() < due)
                {
                    var ahead = (due - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
                    if (ahead > 1.5)
                    {
                        Thread.Sleep(1);
                    }
                    else
                    {
                        Thread.SpinWait(20);
                    }
                }

                if (Volatile.Read(ref inFlight) >= maxInFlight)
                {
                    Interlocked.Increment(ref dropped);
                    samples[i] = double.NaN;
                    continue;
                }

                Interlocked.Increment(ref inFlight);
                var index = i;
                lock (pending)
                {
                    pending.Add(Task.Run(async () =>
                    {
                        try
                        {
                            using var response = await http.GetAsync(paths[index % paths.Count], HttpCompletionOption.ResponseContentRead);
                            if (!response.IsSuccessStatusCode)
                            {
                                Interlocked.Increment(ref errors);
                            }
                        }
                        catch (Exception)
                        {
                            Interlocked.Increment(ref errors);
                        }
                        finally
                        {
                            samples[index] = (Stopwatch.GetTimestamp() - due) * 1000.0 / Stopwatch.Frequency;
                            Interlocked.Decrement(ref inFlight);
                        }
                    }));
                }
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };
        dispatcher.Start();
        await Task.Run(dispatcher.Join);
        Task[] all;
        lock (pending)
        {
            all = pending.ToArray();
        }

        await Task.WhenAll(all);
        var elapsed = Stopwatch.GetElapsedTime(started);
        record?.AddRange(samples.Where(s => !double.IsNaN(s)));
        return (total - dropped, errors, dropped, elapsed);
    }
}
