using Aspire.Hosting.Testing;
using System.Net;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Reliability.Tests;

/// <summary>
/// The jobs console (<c>/admin/jobs.html</c> and <c>/api/ops</c>) on a whole storefront: what it shows while
/// workers run, die and drain, and what its actions do. The hung job comes last: it kills workers until the poison
/// guard fails it (<see cref="RunsLastAttribute"/>). What it shows is in the .Page file, what its actions do in .Actions.
/// </summary>
[TestCaseOrderer("Reference.Reliability.Tests.Support.DeclarationOrder", "Reference.Reliability.Tests")]
public sealed partial class OperationsConsoleTests(OperationsStorefront storefront, ITestOutputHelper output)
    : IClassFixture<OperationsStorefront>, IAsyncLifetime
{
    private Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    private Uri Gateway => storefront.App.GetEndpoint("gateway", "http");

    [Fact]
    public async Task Bad_input_is_refused_with_problem_details_and_changes_nothing()
    {
        var client = storefront.CreateClient();
        var ops = storefront.CreateOperationsClient();
        var ready = await UploadAndWaitAsync(client, "kite-2560x1600.jpg");
        var workers = await WaitForLiveWorkersAsync(ops, 2);
        var unknown = Guid.NewGuid();
        const string wrongKey = "not-the-admin-key-0123456789abcdef0123";

        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, $"/api/uploads/{ready.Id}/retry"), HttpStatusCode.Conflict, "Ready");
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, $"/api/uploads/{unknown}/retry"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Get, $"/api/ops/uploads/{unknown}"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/workers/nobody.nowhere.1/drain"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/workers/nobody.nowhere.1/stop"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/workers/nobody.nowhere.1/resume"), HttpStatusCode.NotFound);
        // Only a drained (or draining) worker resumes.
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, $"/api/ops/workers/{workers[0].Heartbeat.WorkerId}/resume"), HttpStatusCode.Conflict, "Running");
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/error-queues/nothing_error/redrive"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/error-queues/nothing_error/purge"), HttpStatusCode.NotFound);
        // The work queue itself is no error queue: it can be neither purged nor re-driven from here.
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/error-queues/image-uploaded/purge"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Get, "/api/ops/uploads?state=Bogus"), HttpStatusCode.BadRequest);
        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Get, "/api/ops/workers"), (HttpMethod.Get, "/api/ops/queues"), (HttpMethod.Get, "/api/ops/stream"),
                     (HttpMethod.Post, $"/api/uploads/{ready.Id}/retry"), (HttpMethod.Post, $"/api/ops/workers/{workers[0].Heartbeat.WorkerId}/drain"),
                     (HttpMethod.Post, $"/api/ops/workers/{workers[0].Heartbeat.WorkerId}/resume"),
                     (HttpMethod.Post, "/api/ops/error-queues/image-uploaded_error/purge"),
                 })
        {
            await ExpectProblemAsync(ops.SendAsync(method, path, key: ""), HttpStatusCode.Unauthorized);
            await ExpectProblemAsync(ops.SendAsync(method, path, key: wrongKey), HttpStatusCode.Forbidden);
        }

        var after = await client.GetUploadAsync(ready.Id);
        Assert.Equal(("Ready", ready.Attempts), (after.Status, after.Attempts));
        await Task.Delay(OperationsHeartbeat);
        var workersAfter = await ops.WorkersAsync();
        Assert.All(workers, w => Assert.Equal("Running", workersAfter.Single(a => a.Heartbeat.WorkerId == w.Heartbeat.WorkerId).Heartbeat.State));
    }

    private static readonly TimeSpan OperationsHeartbeat = TimeSpan.FromSeconds(3.5);

    private static Task<T?> Until<T>(Func<Task<T?>> read, TimeSpan timeout) where T : class =>
        Poll.UntilAsync(read, value => value is not null, timeout);

    private static async Task<UploadDto> UploadAndWaitAsync(StorefrontClient client, string photo)
    {
        var accepted = await client.UploadAcceptedAsync(Corpus.Path(photo));
        var finished = await client.WaitUntilFinishedAsync(accepted.Id);
        Assert.Equal("Ready", finished.Status);
        return finished;
    }

    /// <summary>Uploads the corpus's large photos, four at a time; the ids once every upload has its 202.</summary>
    private static async Task<List<Guid>> StartBurst(StorefrontClient client, int count)
    {
        // Large photos first: a burst must outlast a few heartbeats (3 s) for the console to see the workers busy.
        string[] photos = ["landing-5120x2880.jpg", "mouse-3840x2400.jpg", "autumn-2560x1600-progressive.jpg", "kite-2560x1600.jpg"];
        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
            ids.Add((await client.UploadAcceptedAsync(Corpus.Path(photos[i % photos.Length]))).Id));
        return ids.ToList();
    }

    private static async Task<List<WorkerViewDto>> WaitForLiveWorkersAsync(OperationsClient ops, int count)
    {
        var live = await Until(async () =>
        {
            var workers = (await ops.WorkersAsync()).Where(w => !w.Lost && w.Heartbeat.State == "Running").ToList();
            return workers.Select(w => w.Heartbeat.Name).Distinct().Count() >= count ? workers : null;
        }, TimeSpan.FromSeconds(90));
        return live!;
    }

    /// <summary>The broker's count of consumers on the work queue reaches <paramref name="count"/> (a resumed worker consumes again).</summary>
    private static Task<int> WaitForWorkQueueConsumersAsync(OperationsClient ops, int count) =>
        Poll.UntilAsync(async () =>
        {
            using var response = await ops.SendAsync(HttpMethod.Get, "/api/ops/queues");
            var queues = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<List<QueueDto>>(response.Content, StorefrontClient.Json);
            return queues!.Single(q => q.Name == "image-uploaded").Consumers;
        }, consumers => consumers == count, TimeSpan.FromSeconds(30));

    private static async Task ExpectProblemAsync(Task<HttpResponseMessage> sending, HttpStatusCode status, string? detailContains = null)
    {
        using var response = await sending;
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, await response.Content.ReadAsStringAsync());
        }
    }
}
