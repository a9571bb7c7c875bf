using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Reference.Bench.Report;

namespace Reference.Bench.Load;

/// <summary>
/// An open-loop load generator (wrk2-style; Debian has no wrk2): requests are sent on a fixed
/// schedule whether or not earlier ones have answered, and each latency is measured from the time
/// the request was due, not from when it was sent, so a stall is counted against every request it
/// delayed (no coordinated omission). Bounded by count and time.
/// <para>
/// It speaks plain HTTP/1.1 over keep-alive sockets (GET, no body) instead of using HttpClient: on
/// 2 cores the driver shares the CPU with what it measures, and HttpClient cost about 0.35 ms of
/// CPU a request, as much as the gateway. A request goes out on an idle connection; a new one is
/// opened when none is idle.
/// </para>
/// </summary>
public static partial class FixedRateLoad
{
    public sealed record Result(double TargetRate, double AchievedRate, int Requests, int Errors, int Dropped,
        double P50Ms, double P90Ms, double P99Ms, double MaxMs);

    public static async Task<Result> RunAsync(Uri baseAddress, IReadOnlyList<string> paths, double rate, TimeSpan duration, TimeSpan warmup,
        int maxConnections = 512)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, baseAddress.Port);
        var requests = paths.Select(p => Encoding.ASCII.GetBytes($"GET {p} HTTP/1.1\r\nHost: {baseAddress.Authority}\r\n\r\n")).ToArray();
        var pool = new ConnectionPool(endpoint, maxConnections);
        try
        {
            // Warm-up at the same rate: connections opened, JIT done, caches filled. Not recorded.
            await Schedule(pool, requests, rate, warmup, record: null);
            var latencies = new List<double>();
            var (sent, errors, dropped, elapsed) = await Schedule(pool, requests, rate, duration, latencies);
            return new Result(rate, Math.Round(sent / elapsed.TotalSeconds, 1), sent, errors, dropped,
                Math.Round(Stats.Percentile(latencies, 50), 2), Math.Round(Stats.Percentile(latencies, 90), 2),
                Math.Round(Stats.Percentile(latencies, 99), 2), Math.Round(latencies.DefaultIfEmpty(double.NaN).Max(), 2));
        }
        finally
        {
            pool.Dispose();
        }
    }

    private static async Task<(int Sent, int Errors, int Dropped, TimeSpan Elapsed)> Schedule(
        ConnectionPool pool, byte[][] requests, double rate, TimeSpan duration, List<double>? record)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var errors = 0;
        var dropped = 0;
        var samples = new double[total];
        var pending = new Task[total];
        var started = Stopwatch.GetTimestamp();
        var ticksPerRequest = Stopwatch.Frequency / rate;

        // A dedicated thread keeps the schedule: the thread pool is busy finishing responses.
        var dispatcher = new Thread(() =>
        {
            for (var i = 0; i < total; i++)
            {
                var due = started + (long)(i * ticksPerRequest);
                // Sleep, never spin: on 2 cores a spinning driver takes a core from what it measures.
                // Waking up to ~0.1 ms late only counts against the system (latency runs from `due`).
                for (long now; (now = Stopwatch.GetTimestamp()) < due;)
                {
                    usleep((uint)Math.Max(50, (due - now) * 1_000_000 / Stopwatch.Frequency));
                }

                var connection = pool.Take();
                if (connection is null)
                {
                    Interlocked.Increment(ref dropped);
                    samples[i] = double.NaN;
                    pending[i] = Task.CompletedTask;
                    continue;
                }

                var index = i;
                pending[i] = SendAsync(connection, requests[index % requests.Length], due, ok =>
                {
                    samples[index] = (Stopwatch.GetTimestamp() - due) * 1000.0 / Stopwatch.Frequency;
                    if (!ok)
                    {
                        Interlocked.Increment(ref errors);
                    }
                });
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };
        dispatcher.Start();
        await Task.Run(dispatcher.Join);
        await Task.WhenAll(pending);
        var elapsed = Stopwatch.GetElapsedTime(started);
        record?.AddRange(samples.Where(s => !double.IsNaN(s)));
        if (record is not null && Environment.GetEnvironmentVariable("BENCH_DUMP") is { } dump)
        {
            File.WriteAllLines(dump, samples.Select((v, i) => $"{i / rate:0.000} {v:0.00}"));
        }
        return (total - dropped, errors, dropped, elapsed);

        async Task SendAsync(Connection connection, byte[] request, long due, Action<bool> done)
        {
            var ok = false;
            var reusable = true;
            try
            {
                ok = await connection.GetAsync(request);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or InvalidDataException)
            {
                reusable = false;
                connection.Dispose();
            }
            finally
            {
                done(ok);
                if (reusable)
                {
                    pool.Return(connection);
                }
            }
        }
    }

    // Thread.Sleep's 1 ms is the whole gap between two requests at 1,000/s.
    [DllImport("libc", SetLastError = true)]
    private static extern int usleep(uint microseconds);
}
