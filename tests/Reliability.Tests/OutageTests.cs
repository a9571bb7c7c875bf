using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Reliability.Tests;

/// <summary>One outage at a time, each healed before the next test (they share one storefront).</summary>
[Collection(OutageCollection.Name)]
public sealed class OutageTests(OutageStorefront storefront, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Settle = TimeSpan.FromMinutes(2);

    public Task InitializeAsync() => Faults.WaitUntilRunningAndHealthyAsync(storefront.App, storefront.Resources, Settle);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Uploads_accepted_before_any_worker_ever_started_are_all_processed_once_workers_start()
    {
        var client = storefront.CreateClient();

        var finished = await Task.WhenAll(storefront.EarlyUploads.Select(id => client.WaitUntilFinishedAsync(id, Settle)));

        Assert.Equal(OutageStorefront.EarlyUploadCount, finished.Length);
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        Log($"fresh-broker: {finished.Length} uploads accepted before any worker started, {finished.Count(u => u.Status == "Ready")} ready, " +
            $"publishes {finished.Sum(u => u.Attempts)}");
    }

    [Fact]
    public async Task With_the_broker_down_uploads_still_get_202_and_none_is_lost_once_it_is_back()
    {
        var client = storefront.CreateClient();
        var photos = Corpus.AllImages();
        await Faults.StopAsync(storefront.App, "messaging");
        try
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
            {
                using var response = await client.UploadAsync(await File.ReadAllBytesAsync(photos[i % photos.Count]), Path.GetFileName(photos[i % photos.Count]));
                return (response.StatusCode, Body: await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json));
            }));

            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            var ids = responses.Select(r => r.Body!.Id).ToList();
            foreach (var id in ids)
            {
                Assert.Equal("Pending", (await client.GetUploadAsync(id)).Status);
            }

            await Faults.StartAsync(storefront.App, "messaging");
            var finished = await Task.WhenAll(ids.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
            Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
            Log($"broker-down: {ids.Count} uploads answered 202 with the broker stopped, {finished.Count(u => u.Status == "Ready")} ready after it came back");
        }
        finally
        {
            if (!Faults.IsRunningAndHealthy(storefront.App, "messaging"))
            {
                await Faults.StartAsync(storefront.App, "messaging");
            }
        }
    }

    [Fact]
    public async Task A_broker_killed_with_sigkill_comes_back_by_itself_and_the_uploads_sent_meanwhile_are_ready()
    {
        var client = storefront.CreateClient();
        var photos = Corpus.AllImages();
        var script = Faults.TryFindPid(storefront.App, "messaging");
        var beam = Faults.KillServer(storefront.App, "messaging", "beam.smp");
        var clock = Stopwatch.StartNew();

        var ids = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add((await client.UploadAcceptedAsync(photos[i % photos.Count])).Id);
        }

        // Nobody starts it: only the AppHost's supervision can bring it back.
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            while (!(Faults.IsRunningAndHealthy(storefront.App, "messaging") && Faults.TryFindPid(storefront.App, "messaging") != script))
            {
                await Task.Delay(250, wait.Token);
            }
        }

        var back = clock.Elapsed;
        var finished = await Task.WhenAll(ids.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
        Log($"broker-killed: beam.smp (pid {beam}) SIGKILLed, broker back by itself in {back.TotalSeconds:0} s, " +
            $"{ids.Count} uploads sent meanwhile, {finished.Count(u => u.Status == "Ready")} ready");
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
    }

    [Fact]
    public async Task With_redis_down_uploads_get_202_and_are_all_ready_and_product_reads_are_served()
    {
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "RedisDown");
        await Faults.StopAsync(storefront.App, "cache");
        UploadStream stream;
        try
        {
            stream = await UploadDuringAsync(client, product.Id, RedisFaultLength, uploads: 40);
        }
        finally
        {
            await Faults.StartAsync(storefront.App, "cache");
        }

        var finished = await Task.WhenAll(stream.Accepted.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
        Log($"redis-down: {stream.Sent} uploads during a {RedisFaultLength.TotalSeconds:0} s outage, {finished.Count(u => u.Status == "Ready")} ready, " +
            $"{finished.Count(u => u.Status == "Failed")} failed, reads served {100.0 * stream.ReadsServed / stream.Reads:0.#}% of {stream.Reads}");
        Assert.Equal(stream.Sent, stream.Accepted.Count);
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        Assert.Equal(stream.Reads, stream.ReadsServed);
    }

    [Fact]
    public async Task With_redis_stalled_uploads_get_202_and_are_all_ready_and_product_reads_are_served()
    {
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "RedisStall");
        // CLIENT PAUSE holds every client's commands unanswered: the connections stay up, replies never come.
        await Faults.RedisCommandAsync(storefront.App, "CLIENT", "PAUSE", ((int)RedisFaultLength.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture), "ALL");
        var stream = await UploadDuringAsync(client, product.Id, RedisFaultLength, uploads: 40);
        // Blocks until the pause is over; then give the services' Redis clients a moment to find it
        // answering again, so the next test starts with a working cache.
        await Faults.RedisCommandAsync(storefront.App, "CLIENT", "UNPAUSE");
        await Task.Delay(TimeSpan.FromSeconds(5));

        var finished = await Task.WhenAll(stream.Accepted.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
        Log($"redis-stall: {stream.Sent} uploads during a {RedisFaultLength.TotalSeconds:0} s stall (CLIENT PAUSE), {finished.Count(u => u.Status == "Ready")} ready, " +
            $"{finished.Count(u => u.Status == "Failed")} failed, reads served {100.0 * stream.ReadsServed / stream.Reads:0.#}% of {stream.Reads}" +
            (stream.Refused.Count == 0 ? "" : $" (not served: {string.Join(", ", stream.Refused)})"));
        Assert.Equal(stream.Sent, stream.Accepted.Count);
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        Assert.Equal(stream.Reads, stream.ReadsServed);
    }

    [Fact]
    public async Task Uploads_made_while_no_worker_runs_wait_past_the_old_retry_budget_and_are_ready_once_one_starts()
    {
        var app = storefront.App;
        var client = storefront.CreateClient();
        var uploader = new RetryingUploader(client);
        var workers = storefront.Services("imageworker");
        var uploadApis = storefront.Services("uploadapi");
        var photos = Corpus.AllImages();
        // The old sweeper failed an upload after MaxAttempts publishes, one per pending timeout (+ a sweep).
        var oldBudget = OutageStorefront.ShortMaxAttempts * (OutageStorefront.ShortPendingTimeout + TimeSpan.FromSeconds(1));
        var waited = oldBudget * 3;
        storefront.ShortSweeperBudget = true;
        try
        {
            await RestartByCrashAsync(uploadApis);

            foreach (var worker in workers)
            {
                await Faults.StopAsync(app, worker);
            }

            var ids = new List<Guid>();
            for (var i = 0; i < 8; i++)
            {
                var attempt = await uploader.UploadAsync(await File.ReadAllBytesAsync(photos[i % photos.Count]), Path.GetFileName(photos[i % photos.Count]), null, default);
                ids.Add(attempt.Id ?? throw new InvalidOperationException($"upload {i} refused: {attempt.LastStatus}"));
            }

            await Task.Delay(waited);
            var waiting = await Task.WhenAll(ids.Select(client.GetUploadAsync));
            await Faults.StartAsync(app, workers[0]);
            var finished = await Task.WhenAll(ids.Select(id => client.WaitUntilFinishedAsync(id, Settle)));

            Log($"no-worker: {ids.Count} uploads with every worker stopped for {waited.TotalSeconds:0} s (the old budget: {oldBudget.TotalSeconds:0} s), " +
                $"{waiting.Count(u => u.Status == "Failed")} failed meanwhile, published {waiting.Sum(u => u.Attempts)} times; " +
                $"one worker started: {finished.Count(u => u.Status == "Ready")} ready, {finished.Count(u => u.Status == "Failed")} failed");
            Assert.All(waiting, upload => Assert.Equal("Pending", upload.Status));
            Assert.True(waiting.All(u => u.Attempts > OutageStorefront.ShortMaxAttempts), "the sweeper did not publish past the old cap");
            Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        }
        finally
        {
            storefront.ShortSweeperBudget = false;
            await RestartByCrashAsync(uploadApis);

            foreach (var worker in workers.Where(w => !Faults.IsRunningAndHealthy(app, w)))
            {
                await Faults.StartAsync(app, worker);
            }
        }
    }

    [Fact]
    public async Task An_image_that_kills_every_worker_that_takes_it_ends_failed_and_the_good_uploads_sent_with_it_are_ready()
    {
        var client = storefront.CreateClient();
        var uploader = new RetryingUploader(client);
        var photos = Corpus.AllImages().Select(p => (Name: Path.GetFileName(p), Bytes: File.ReadAllBytes(p))).ToList();
        var workerPids = storefront.Services("imageworker").Select(w => Faults.TryFindPid(storefront.App, w)).ToList();

        var poison = await client.UploadAcceptedAsync(Corpus.Path("kite-2560x1600.jpg"), storefront.PoisonProductId);
        var good = new List<Guid>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 50), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            var attempt = await uploader.UploadAsync(photos[i % photos.Count].Bytes, photos[i % photos.Count].Name, null, ct);
            lock (good)
            {
                good.Add(attempt.Id ?? throw new InvalidOperationException($"good upload {i} refused: {attempt.LastStatus}"));
            }
        });

        var poisoned = await client.WaitUntilFinishedAsync(poison.Id, Settle);
        var finished = await Task.WhenAll(good.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
        var crashes = storefront.Services("imageworker").Zip(workerPids).Count(w => Faults.TryFindPid(storefront.App, w.First) != w.Second);

        Log($"poison: poison upload {poisoned.Status} after {poisoned.Attempts} publishes ({poisoned.Reason}); " +
            $"{finished.Count(u => u.Status == "Ready")} of {good.Count} good uploads ready; workers restarted: {crashes}");
        Assert.Equal("Failed", poisoned.Status);
        // Images:MaxProcessingAttempts (3) deaths with the job in hand, then one alone: at most 4 starts.
        var starts = System.Text.RegularExpressions.Regex.Match(poisoned.Reason ?? "", "started ([0-9]+) times without finishing");
        Assert.True(starts.Success, poisoned.Reason);
        Assert.InRange(int.Parse(starts.Groups[1].Value), 1, 4);
        Assert.True(crashes > 0, "the poison job never killed a worker: the fault injection is not wired");
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
    }

    [Fact]
    public async Task A_worker_killed_mid_job_leaves_its_jobs_to_the_other_and_every_upload_is_ready()
    {
        var client = storefront.CreateClient();
        var victim = storefront.Services("imageworker")[0];
        var pid = Faults.TryFindPid(storefront.App, victim);
        // The largest corpus photo, a dozen times: both workers hold their full prefetch while it runs.
        var ids = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            ids.Add((await client.UploadAcceptedAsync(Corpus.Path("landing-5120x2880.jpg"))).Id);
        }

        using (var wait = new CancellationTokenSource(Settle))
        {
            while (!(await Task.WhenAll(ids.Select(client.GetUploadAsync))).Any(u => u.Status == "Processing"))
            {
                await Task.Delay(20, wait.Token);
            }
        }

        var unfinished = (await Task.WhenAll(ids.Select(client.GetUploadAsync))).Count(u => u.Status is "Pending" or "Processing");
        Faults.Kill(storefront.App, victim);
        var finished = await Task.WhenAll(ids.Select(id => client.WaitUntilFinishedAsync(id, Settle)));

        Log($"worker-killed: {victim} killed with {unfinished} of {ids.Count} uploads unfinished; " +
            $"{finished.Count(u => u.Status == "Ready")} ready, {finished.Count(u => u.Status == "Failed")} failed");
        // More unfinished jobs than the other worker can hold: the victim had its own in hand.
        Assert.True(unfinished > Environment.ProcessorCount, $"only {unfinished} uploads were unfinished at the kill");
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        await Faults.WaitUntilRunningAndHealthyAsync(storefront.App, [victim], Settle);
        Assert.NotEqual(pid, Faults.TryFindPid(storefront.App, victim));
    }

    [Fact]
    public async Task With_mysql_down_cached_reads_answer_writes_get_503_and_everything_recovers_without_restarts()
    {
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "Outage");
        // Every replica healthy (Redis reachable again after another test's Redis fault), then read
        // until Redis holds the product and the category page: the point here is what the cache serves.
        await Faults.WaitUntilRunningAndHealthyAsync(storefront.App, storefront.Services("inventoryapi"), Settle);
        await Poll.UntilAsync(async () =>
        {
            await client.GetProductAsync(product.Id);
            using (var page = await client.Http.GetAsync("/api/inventory/products?category=Outage"))
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            }

            var cachedProduct = await Faults.RedisCommandAsync(storefront.App, "--scan", "--pattern", $"inventory:v1:product:{product.Id:N}:*");
            var cachedPage = await Faults.RedisCommandAsync(storefront.App, "--scan", "--pattern", "inventory:v1:list:*utage*");
            return cachedProduct.Trim().Length > 0 && cachedPage.Trim().Length > 0;
        }, cached => cached, TimeSpan.FromSeconds(60));

        var services = storefront.Services("inventoryapi").Concat(storefront.Services("uploadapi")).ToList();
        var pids = services.ToDictionary(s => s, s => Faults.TryFindPid(storefront.App, s));

        await Faults.StopAsync(storefront.App, "mysql");
        var startedAt = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                using var read = await client.Http.GetAsync($"/api/inventory/products/{product.Id}");
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
                // A list page is served from the cache only until any product write elsewhere (an image still
                // attaching from an earlier test) retires the list generation; then it needs MySQL: a clear 503.
                using var page = await client.Http.GetAsync("/api/inventory/products?category=Outage");
                Assert.True(page.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"The page answered {page.StatusCode}.");
            }

            using (var create = await client.SendAdminAsync(HttpMethod.Post, "/api/inventory/products", NewProduct()))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, create.StatusCode);
                Assert.Equal("application/problem+json", create.Content.Headers.ContentType?.MediaType);
            }

            using (var stock = await client.SendAdminAsync(HttpMethod.Post, $"/api/inventory/products/{product.Id}/stock", new { delta = 1 }))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, stock.StatusCode);
            }
        }
        finally
        {
            await Faults.StartAsync(storefront.App, "mysql");
        }

        // Writes come back by themselves: the same processes reconnect.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        HttpStatusCode last;
        do
        {
            await Task.Delay(500, timeout.Token);
            using var create = await client.SendAdminAsync(HttpMethod.Post, "/api/inventory/products", NewProduct());
            last = create.StatusCode;
            Assert.True(last is HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable, $"a write while MySQL comes back got {last}");
        }
        while (last != HttpStatusCode.Created);

        var upload = await client.UploadAcceptedAsync(Corpus.Path("leaf-2560x1600.jpg"), product.Id);
        Assert.Equal("Ready", (await client.WaitUntilFinishedAsync(upload.Id, Settle)).Status);
        Assert.Equal(pids, services.ToDictionary(s => s, s => Faults.TryFindPid(storefront.App, s)));
        Log($"mysql-down: reads answered from the cache, writes 503, writes back {startedAt.Elapsed.TotalSeconds:0} s after the stop, no service restarted");
    }

    [Fact]
    public async Task After_a_replica_is_killed_clients_see_no_errors_once_the_health_checks_have_noticed()
    {
        // The gateway checks each replica every 5 s and drops it after 2 failures (2 s timeout each).
        // Until then a request can reach the dead replica; its connection is refused, so the gateway
        // sends it to the other one (any method: nothing was sent). Only a request in flight at the
        // moment of the kill can fail, and only inside the window; after it, all must succeed.
        var window = TimeSpan.FromSeconds(15);
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "Replicas");
        var upload = await client.UploadAcceptedAsync(Corpus.Path("leaf-2560x1600.jpg"));

        var killed = new[] { "inventoryapi-1", "uploadapi-2" }.Select(r => (Resource: r, Pid: Faults.Kill(storefront.App, r))).ToList();
        var clock = Stopwatch.StartNew();
        var errors = new List<(TimeSpan At, string What)>();
        var requests = 0;
        while (clock.Elapsed < window + TimeSpan.FromSeconds(15))
        {
            foreach (var (name, send) in new (string, Func<Task<HttpResponseMessage>>)[]
                     {
                         ("GET product", () => client.Http.GetAsync($"/api/inventory/products/{product.Id}")),
                         ("GET upload", () => client.GetAsAdminAsync($"/api/uploads/{upload.Id}")),
                         ("POST product", () => client.SendAdminAsync(HttpMethod.Post, "/api/inventory/products", NewProduct())),
                     })
            {
                requests++;
                var sentAt = clock.Elapsed; // a request sent inside the window may end after it
                try
                {
                    using var response = await send();
                    if ((int)response.StatusCode >= 500)
                    {
                        errors.Add((sentAt, $"{name}: {(int)response.StatusCode} after {(clock.Elapsed - sentAt).TotalSeconds:0.0} s"));
                    }
                }
                catch (HttpRequestException e)
                {
                    errors.Add((sentAt, $"{name}: {e.Message}"));
                }
            }
        }

        var late = errors.Where(e => e.At > window).ToList();
        Log($"replica-killed: {requests} requests in {clock.Elapsed.TotalSeconds:0} s after killing {string.Join(", ", killed.Select(k => k.Resource))}; " +
            $"errors {errors.Count} (sent within the {window.TotalSeconds:0} s window {errors.Count - late.Count}, sent after it {late.Count})");
        foreach (var error in errors.Take(10))
        {
            Log($"replica-killed: sent at {error.At.TotalSeconds:0.0} s, {error.What}");
        }

        Assert.Empty(late);
        await Faults.WaitUntilRunningAndHealthyAsync(storefront.App, killed.Select(k => k.Resource), Settle);
        Assert.All(killed, k => Assert.NotEqual(k.Pid, Faults.TryFindPid(storefront.App, k.Resource)));
    }

    /// <summary>
    /// New settings need a new process. Aspire's restart command can time out on a busy replica,
    /// so each is killed in turn and brought back by the AppHost's supervision, as after a crash.
    /// </summary>
    private async Task RestartByCrashAsync(IEnumerable<string> replicas)
    {
        foreach (var replica in replicas)
        {
            var pid = Faults.Kill(storefront.App, replica);
            using var wait = new CancellationTokenSource(Settle);
            while (!(Faults.IsRunningAndHealthy(storefront.App, replica) && Faults.TryFindPid(storefront.App, replica) is { } now && now != pid))
            {
                await Task.Delay(250, wait.Token);
            }
        }
    }

    private static readonly TimeSpan RedisFaultLength = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Sends <paramref name="uploads"/> uploads spread over <paramref name="length"/>, half for the product,
    /// reading the product page between them; each upload is sent once (a 202 is what is asked for).
    /// </summary>
    private static async Task<UploadStream> UploadDuringAsync(StorefrontClient client, Guid productId, TimeSpan length, int uploads)
    {
        var photos = Corpus.AllImages();
        var accepted = new List<Guid>();
        int reads = 0, served = 0;
        var refused = new List<string>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < uploads; i++)
        {
            var photo = photos[i % photos.Count];
            using (var response = await client.UploadAsync(await File.ReadAllBytesAsync(photo), Path.GetFileName(photo), i % 2 == 0 ? productId : null))
            {
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted.Add((await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json))!.Id);
                }
            }

            do
            {
                reads++;
                using var read = await client.Http.GetAsync($"/api/inventory/products/{productId}");
                served += read.StatusCode == HttpStatusCode.OK ? 1 : 0;
                if (read.StatusCode != HttpStatusCode.OK)
                {
                    refused.Add($"{(int)read.StatusCode} at {clock.Elapsed.TotalSeconds:0.0} s");
                }
                await Task.Delay(250);
            }
            while (clock.Elapsed < length * (i + 1) / uploads);
        }

        return new UploadStream(uploads, accepted, reads, served, refused);
    }

    private sealed record UploadStream(int Sent, List<Guid> Accepted, int Reads, int ReadsServed, List<string> Refused);

    private static object NewProduct() => new
    {
        sku = "OUT-" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant(),
        name = "Outage product",
        description = "Made during an outage test.",
        category = "Outage",
        price = 3.5m,
        currency = "EUR",
        stock = 1,
    };

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
