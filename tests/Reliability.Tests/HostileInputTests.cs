using System.Net;
using System.Net.Sockets;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Reliability.Tests;

/// <summary>
/// Hostile and malformed requests against every endpoint, through the gateway. Each one gets the
/// answer written next to it (a 4xx, or a 202 where accepting is the design and the pipeline then
/// decides), never a 5xx; no process dies; the workers stay inside their memory; and a good
/// request right after each one still succeeds.
/// </summary>
[Collection(OutageCollection.Name)]
public sealed partial class HostileInputTests(OutageStorefront storefront, ITestOutputHelper output)
{
    private const string GoodPhoto = "flow-720x1440-portrait.jpg";

    /// <param name="Then">For a 202: the state the upload must end in.</param>
    /// <param name="Bomb">A decoder bomb: its time to answer and the memory peaks are printed.</param>
    private sealed record Case(string Endpoint, string Name, int Expected, Func<Context, Task<int>> Send, string? Then = null, bool Bomb = false);

    /// <summary>Made once: packing 520 MB takes a second or two each.</summary>
    private static class Bombs
    {
        public static readonly Lazy<byte[]> ZTxt = new(() => HostileFiles.PngWithCompressedChunk("zTXt", 520L * 1024 * 1024));
        public static readonly Lazy<byte[]> ITxt = new(() => HostileFiles.PngWithCompressedChunk("iTXt", 520L * 1024 * 1024));
        public static readonly Lazy<byte[]> ICcp = new(() => HostileFiles.PngWithCompressedChunk("iCCP", 520L * 1024 * 1024));
    }

    private sealed record Context(HttpClient Http, Uri Gateway, Guid ProductId, Guid UploadId, List<Guid> Accepted);

    [Fact]
    public async Task Every_hostile_request_gets_its_4xx_and_no_process_dies_or_outgrows_its_memory()
    {
        await Faults.WaitUntilRunningAndHealthyAsync(storefront.App, storefront.Resources, TimeSpan.FromMinutes(2));
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "Hostile");
        var earlier = await client.UploadAcceptedAsync(Corpus.Path(GoodPhoto), product.Id);
        var context = new Context(client.Http, storefront.App.GetEndpoint("gateway", "http"), product.Id, earlier.Id, []);
        var processes = storefront.Resources.Where(HasProcess).ToDictionary(r => r, r => Faults.TryFindPid(storefront.App, r));

        var cases = Cases();
        var mismatches = new List<string>();
        var serverErrors = 0;
        var rejected = 0;
        var good = new List<Guid>();
        var acceptedBy = new List<(Case Case, Guid Id)>();
        var bombs = new List<string>();
        foreach (var @case in cases)
        {
            int status;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                status = await @case.Send(context);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or SocketException)
            {
                status = 0; // the connection ended without an answer
            }

            acceptedBy.AddRange(context.Accepted.Skip(acceptedBy.Count).Select(id => (@case, id)));
            serverErrors += status >= 500 ? 1 : 0;
            rejected += status is >= 400 and < 500 ? 1 : 0;
            var line = $"[hostile-input] {@case.Endpoint} {@case.Name}: {(status == 0 ? "no answer" : status.ToString())}";
            if (status != @case.Expected)
            {
                mismatches.Add($"{line}, expected {@case.Expected}");
            }

            Log(line);
            if (@case.Bomb)
            {
                bombs.Add($"{@case.Name}: {status} in {clock.Elapsed.TotalSeconds:0.0} s");
                if (clock.Elapsed > TimeSpan.FromSeconds(5))
                {
                    mismatches.Add($"{line}: answered after {clock.Elapsed.TotalSeconds:0.0} s");
                }
            }

            // A good request right after: the same endpoint family still works.
            if (@case.Endpoint.StartsWith("POST /api/uploads", StringComparison.Ordinal))
            {
                good.Add((await client.UploadAcceptedAsync(Corpus.Path(GoodPhoto))).Id);
            }
            else
            {
                using var read = await client.Http.GetAsync($"/api/inventory/products/{product.Id}");
                if (read.StatusCode != HttpStatusCode.OK)
                {
                    mismatches.Add($"{line}: the good request after it got {(int)read.StatusCode}");
                }
            }
        }

        // What the pipeline made of the hostile files it accepted.
        foreach (var (@case, id) in acceptedBy)
        {
            var finished = await client.WaitUntilFinishedAsync(id, TimeSpan.FromMinutes(2));
            Log($"[hostile-input] {@case.Name} ended {finished.Status}{(finished.Reason is null ? "" : $" ({finished.Reason})")}");
            if (@case.Then is not null && finished.Status != @case.Then)
            {
                mismatches.Add($"{@case.Name} ended {finished.Status}, expected {@case.Then}");
            }
        }

        var goodFinished = await Task.WhenAll(good.Select(id => client.WaitUntilFinishedAsync(id, TimeSpan.FromMinutes(2))));
        var crashes = processes.Count(p => Faults.TryFindPid(storefront.App, p.Key) != p.Value || !Faults.IsRunningAndHealthy(storefront.App, p.Key));
        var workerPeak = storefront.Services("imageworker")
            .Select(w => Faults.TryFindPid(storefront.App, w))
            .Where(pid => pid is not null)
            .Max(pid => Faults.PeakResidentBytes(pid!.Value));

        var uploadApiPeak = storefront.Services("uploadapi")
            .Select(w => Faults.TryFindPid(storefront.App, w))
            .Where(pid => pid is not null)
            .Max(pid => Faults.PeakResidentBytes(pid!.Value));
        foreach (var bomb in bombs)
        {
            Log($"bomb: {bomb}");
        }

        Log($"bomb: peak RSS since start: uploadapi {uploadApiPeak / (1024 * 1024)} MB, imageworker {workerPeak / (1024 * 1024)} MB " +
            $"(limits 512 MB each in compose)");
        Log($"hostile-input: {cases.Count} requests, {rejected} rejected with 4xx, {cases.Count - rejected - serverErrors} accepted by design, " +
            $"{serverErrors} server errors, {crashes} crashes, worker peak RSS {workerPeak / (1024 * 1024)} MB " +
            $"(limit {ReliabilityStorefront.WorkerMemoryLimitBytes / (1024 * 1024)} MB), {goodFinished.Count(u => u.Status == "Ready")}/{good.Count} good uploads ready");

        Assert.True(cases.Count >= 80, $"only {cases.Count} cases");
        Assert.Empty(mismatches);
        Assert.Equal(0, serverErrors);
        Assert.Equal(0, crashes);
        Assert.All(goodFinished, u => Assert.Equal("Ready", u.Status));
        Assert.InRange(workerPeak, 1, ReliabilityStorefront.WorkerMemoryLimitBytes);
        Assert.InRange(uploadApiPeak, 1, ReliabilityStorefront.WorkerMemoryLimitBytes);
    }

    private bool HasProcess(string resource) =>
        storefront.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.First(r => r.Name == resource)
            is ProjectResource or ExecutableResource;

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
