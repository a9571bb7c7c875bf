using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Reference.Contracts;
using Reference.InventoryApi.IntegrationEvents.EventHandling;
using Reference.Tests.Support;

namespace Reference.InventoryApi.Tests;

/// <summary>Taking an image off a product: gone from every read at once (both replicas' caches), and its files announced for removal.</summary>
[Collection(InventoryCollection.Name)]
public sealed class ImageDeleteTests(InventoryFixture fixture)
{
    [Fact]
    public async Task A_deleted_image_leaves_the_product_and_its_listing_on_both_replicas_and_is_announced()
    {
        var category = "Takedown-" + Guid.NewGuid().ToString("N")[..8];
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 1, category: category);
        var kept = await AttachAsync(product.Id);
        var deleted = await AttachAsync(product.Id);
        // Read through both replicas first, so each read below would come from the cache if nothing invalidated it.
        Assert.Equal(2, (await fixture.ReplicaB.GetProductAsync(product.Id)).Images.Count);
        Assert.Equal([kept, deleted], await ListedImagesAsync(fixture.ReplicaB, category));
        using var observer = Announcements.On(fixture.ReplicaA);

        using var admin = fixture.ReplicaA.Admin();
        var response = await admin.DeleteAsync($"/api/inventory/products/{product.Id}/images/{deleted}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal([kept], (await fixture.ReplicaB.GetProductAsync(product.Id)).Images.Select(i => i.UploadId));
        Assert.Equal([kept], await ListedImagesAsync(fixture.ReplicaB, category));
        Assert.Equal(new ImageDeleted(deleted, product.Id), Assert.Single(observer.Published));
    }

    [Fact]
    public async Task Deleting_a_product_announces_each_of_its_images()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 0);
        var first = await AttachAsync(product.Id);
        var second = await AttachAsync(product.Id);
        using var observer = Announcements.On(fixture.ReplicaA);

        using var admin = fixture.ReplicaA.Admin();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/inventory/products/{product.Id}")).StatusCode);

        Assert.Equal(new[] { first, second }.Order(), observer.Published.Select(m => m.UploadId).Order());
        Assert.All(observer.Published, m => Assert.Equal(product.Id, m.ProductId));
    }

    [Fact]
    public async Task An_image_not_on_the_product_is_404_and_the_endpoint_needs_the_admin_key()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 1);
        var image = await AttachAsync(product.Id);

        using var observer = Announcements.On(fixture.ReplicaA);
        using var anonymous = fixture.ReplicaA.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync($"/api/inventory/products/{product.Id}/images/{image}")).StatusCode);
        using var admin = fixture.ReplicaA.Admin();
        var notOnProduct = await admin.DeleteAsync($"/api/inventory/products/{product.Id}/images/{Guid.NewGuid()}");
        var noProduct = await admin.DeleteAsync($"/api/inventory/products/{Guid.NewGuid()}/images/{image}");

        Assert.Equal(HttpStatusCode.NotFound, notOnProduct.StatusCode);
        Assert.Equal("application/problem+json", notOnProduct.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, noProduct.StatusCode);
        Assert.Single((await fixture.ReplicaA.GetProductAsync(product.Id)).Images);
        // An upload not (or not yet) on the product keeps its files.
        Assert.Empty(observer.Published);
    }

    [Fact]
    public async Task With_the_broker_down_the_delete_is_503_and_the_image_stays_until_it_is_sent_again()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 1);
        var image = await AttachAsync(product.Id);
        using var admin = fixture.ReplicaA.Admin();

        await fixture.Servers.StopAsync(BackingServer.RabbitMq);
        HttpResponseMessage refused;
        try
        {
            refused = await admin.DeleteAsync($"/api/inventory/products/{product.Id}/images/{image}");
        }
        finally
        {
            await fixture.Servers.StartAsync(BackingServer.RabbitMq);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal([image], (await fixture.ReplicaB.GetProductAsync(product.Id)).Images.Select(i => i.UploadId));
        using var observer = Announcements.On(fixture.ReplicaA);
        var again = await Poll.UntilAsync(async () => (await admin.DeleteAsync($"/api/inventory/products/{product.Id}/images/{image}")).StatusCode,
            status => status == HttpStatusCode.NoContent, TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.NoContent, again);
        Assert.Empty((await fixture.ReplicaB.GetProductAsync(product.Id)).Images);
        Assert.Contains(new ImageDeleted(image, product.Id), observer.Published);
    }

    private async Task<Guid> AttachAsync(Guid productId)
    {
        var upload = Guid.CreateVersion7();
        await using var scope = fixture.ReplicaA.Services.CreateAsyncScope();
        var consumer = ActivatorUtilities.CreateInstance<ImageProcessedConsumer>(scope.ServiceProvider);
        await consumer.Consume(MessageOnlyContext<ImageProcessed>.For(
            new ImageProcessed(upload, productId, [new ImageVariant("thumb", 160, 120, "jpeg", 4_000, $"{upload}/thumb.jpg")])));
        return upload;
    }

    private static async Task<List<Guid>> ListedImagesAsync(InventoryApp replica, string category)
    {
        using var client = replica.Anonymous();
        var page = await client.GetFromJsonAsync<JsonElement>($"/api/inventory/products?category={category}");
        return page.GetProperty("items").EnumerateArray()
            .SelectMany(p => p.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("uploadId").GetGuid()))
            .ToList();
    }

    /// <summary>The ImageDeleted messages a replica's bus sends while it is connected.</summary>
    private sealed class Announcements : IPublishObserver, IDisposable
    {
        private readonly ConcurrentQueue<ImageDeleted> _published = new();
        private ConnectHandle? _handle;

        public IReadOnlyList<ImageDeleted> Published => _published.ToList();

        public static Announcements On(InventoryApp replica)
        {
            var observer = new Announcements();
            observer._handle = replica.Services.GetRequiredService<IBus>().ConnectPublishObserver(observer);
            return observer;
        }

        public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

        public Task PostPublish<T>(PublishContext<T> context) where T : class
        {
            if (context.Message is ImageDeleted deleted)
            {
                _published.Enqueue(deleted);
            }

            return Task.CompletedTask;
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        public void Dispose() => _handle?.Disconnect();
    }
}
