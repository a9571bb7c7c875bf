using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Aspire.Hosting;
using Reference.Contracts;
using Reference.Bench.Report;
using Reference.Tests.Storefront;

namespace Reference.Bench.EndToEnd;

public static partial class EndToEndBench
{
    /// <summary>Upload, then poll the status URL every <paramref name="pollEvery"/> until Ready or Failed: the time from the start of the upload.</summary>
    private static async Task<(double Ms, bool Ready, double AcceptedMs)> UploadAndWaitAsync(StorefrontClient client, byte[] bytes, string name, TimeSpan pollEvery)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.UploadAsync(bytes, name);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, false, double.NaN);
        }

        var acceptedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var accepted = (await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json))!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            var upload = await client.GetUploadAsync(accepted.Id);
            if (upload.Status is "Ready" or "Failed")
            {
                return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, upload.Status == "Ready", acceptedMs);
            }

            await Task.Delay(pollEvery, timeout.Token);
        }
    }

    private static async Task<UploadLoad> UploadsUnderLoadAsync(DistributedApplication app, StorefrontClient client, IReadOnlyList<(string Name, byte[] Bytes)> corpus, Settings settings)
    {
        var load = Machine.LoadAverage();
        var webpBefore = await WebpBacklogAsync(client);
        var cpuBefore = SystemProcesses.CpuSeconds(app);
        var results = new ConcurrentBag<(double Ms, bool Ready, double AcceptedMs)>();
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var stopStarting = TimeSpan.FromSeconds(settings.LoadSeconds);
        long lastFinished = started;
        await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(async _ =>
        {
            while (Stopwatch.GetElapsedTime(started) < stopStarting)
            {
                var n = Interlocked.Increment(ref next);
                if (n >= settings.MaxUploads)
                {
                    return;
                }

                var image = corpus[n % corpus.Count];
                results.Add(await UploadAndWaitAsync(client, image.Bytes, image.Name, settings.PollEvery));
                Interlocked.Exchange(ref lastFinished, Stopwatch.GetTimestamp());
            }
        }));

        var seconds = (lastFinished - started) / (double)Stopwatch.Frequency;
        var all = results.ToList();
        var ready = all.Count(r => r.Ready);
        // Before the queue read below, whose cost is the driver's, not the run's.
        var cpu = SystemProcesses.MsPer(cpuBefore, SystemProcesses.CpuSeconds(app), Math.Max(1, ready));
        // Each Ready upload queues one WebP pass: what is not left in the queue at the end was done during the run.
        var webpPasses = webpBefore + ready - await WebpBacklogAsync(client);
        return new UploadLoad(settings.Concurrency, Math.Round(seconds, 1), ready,
            Math.Round(ready / seconds, 2), Summarise(all), load, cpu, webpPasses);
    }

    /// <summary>The WebP pass's messages ready or in hand (<see cref="MessageEndpoints.WebpVariantsQueue"/>), as the operations console counts them.</summary>
    private static async Task<long> WebpBacklogAsync(StorefrontClient client)
    {
        using var response = await client.GetAsAdminAsync("/api/ops/queues");
        response.EnsureSuccessStatusCode();
        var queues = await response.Content.ReadFromJsonAsync<List<QueueCount>>(StorefrontClient.Json);
        var webp = queues!.Single(q => q.Name == MessageEndpoints.WebpVariantsQueue);
        return webp.Ready + webp.Unacknowledged;
    }

    /// <summary>
    /// Waits until the WebP pass (<see cref="MessageEndpoints.WebpVariantsQueue"/>) has nothing ready or in hand, as the
    /// operations console counts it: the uploads before leave a backlog of copies, which would otherwise run beside the next phase.
    /// </summary>
    /// <returns>The seconds waited and the messages there were when it began.</returns>
    private static async Task<(double Seconds, long Backlog)> WaitForWebpPassAsync(StorefrontClient client, TimeSpan atMost)
    {
        var started = Stopwatch.GetTimestamp();
        long? backlog = null;
        while (true)
        {
            var left = await WebpBacklogAsync(client);
            backlog ??= left;
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (left == 0)
            {
                return (Math.Round(elapsed.TotalSeconds, 1), backlog.Value);
            }

            if (elapsed > atMost)
            {
                throw new TimeoutException($"The WebP pass still had {left} messages ready or in hand after {atMost}.");
            }

            await Task.Delay(500);
        }
    }

    private sealed record QueueCount(string Name, long Ready, long Unacknowledged);

    private static Latencies Summarise(IReadOnlyList<(double Ms, bool Ready, double AcceptedMs)> results)
    {
        var ready = results.Where(r => r.Ready).Select(r => r.Ms).ToList();
        return new Latencies(results.Count, results.Count(r => !r.Ready), Math.Round(Stats.Percentile(ready, 50)),
            Math.Round(Stats.Percentile(ready, 95)), Math.Round(Stats.Percentile(ready, 99)), Math.Round(ready.DefaultIfEmpty(double.NaN).Max()),
            Math.Round(Stats.Percentile(results.Where(r => r.Ready).Select(r => r.AcceptedMs).ToList(), 50)));
    }
}
