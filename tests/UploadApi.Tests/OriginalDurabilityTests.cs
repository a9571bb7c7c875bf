using System.Net;
using Microsoft.EntityFrameworkCore;
using Reference.UploadApi.Tests.Infrastructure;

namespace Reference.UploadApi.Tests;

/// <summary>The original's last step, the rename to its final name, fails like any other storage write: 503, nothing recorded.</summary>
[Collection(UploadApiCollection.Name)]
public sealed class OriginalDurabilityTests(UploadApiFixture fixture)
{
    [Fact]
    public async Task When_the_original_cannot_be_renamed_into_place_the_upload_is_503_and_nothing_is_recorded()
    {
        using var client = fixture.AdminClient();
        Directory.CreateDirectory(fixture.OriginalsDirectory);
        var rowsBefore = await fixture.WithDbAsync(db => db.Uploads.CountAsync());
        // As soon as the upload's temporary file appears, a folder takes its final name: the rename then fails.
        var blockers = new List<string>();
        using var watcher = new FileSystemWatcher(fixture.OriginalsDirectory, "*.tmp");
        watcher.Created += (_, e) =>
        {
            var blocker = Path.ChangeExtension(e.FullPath, ".jpg");
            Directory.CreateDirectory(blocker);
            File.WriteAllText(Path.Combine(blocker, "in-the-way"), "x");
            lock (blockers)
            {
                blockers.Add(blocker);
            }
        };
        watcher.EnableRaisingEvents = true;

        HttpResponseMessage refused;
        try
        {
            refused = await client.PostAsync("/api/uploads", UploadApiFixture.FormFromFile(TestImages.GoodJpeg));
        }
        finally
        {
            watcher.EnableRaisingEvents = false;
        }

        Assert.Single(blockers);
        await refused.AssertStatusAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(fixture.StorageRoot, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(rowsBefore, await fixture.WithDbAsync(db => db.Uploads.CountAsync()));
        Assert.Empty(Directory.GetFiles(fixture.OriginalsDirectory, "*.tmp"));
        foreach (var blocker in blockers)
        {
            Directory.Delete(blocker, recursive: true);
        }
    }
}
