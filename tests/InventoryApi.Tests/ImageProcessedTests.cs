using System.Reflection;
using MassTransit;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Reference.Contracts;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.IntegrationEvents.EventHandling;
using Reference.Tests.Support;

namespace Reference.InventoryApi.Tests;

[Collection(InventoryCollection.Name)]
public sealed class ImageProcessedTests(InventoryFixture fixture)
{
    private static ImageProcessed Processed(Guid productId, Guid? uploadId = null)
    {
        var upload = uploadId ?? Guid.NewGuid();
        return new ImageProcessed(upload, productId,
        [
            new ImageVariant("thumb", 160, 120, "webp", 4_000, $"{upload}/thumb.webp"),
            new ImageVariant("card", 480, 360, "jpeg", 30_000, $"{upload}/card.jpeg"),
        ]);
    }

    [Fact]
    public async Task Consuming_the_same_message_twice_attaches_the_image_once()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 1);
        var message = Processed(product.Id);

        await ConsumeAsync(fixture.ReplicaA, message);
        await ConsumeAsync(fixture.ReplicaB, message);
        // And twice at the same moment on both replicas, as a redelivery during a slow first attempt would.
        var racing = Processed(product.Id);
        await Task.WhenAll(ConsumeAsync(fixture.ReplicaA, racing), ConsumeAsync(fixture.ReplicaB, racing));

        var images = (await fixture.ReplicaB.GetProductAsync(product.Id)).Images;
        Assert.Equal([message.UploadId, racing.UploadId], images.Select(i => i.UploadId));
        var first = images[0];
        Assert.Equal(product.Name, first.Alt);
        Assert.Equal(["thumb", "card"], first.Variants.Select(v => v.Name));
        Assert.Equal($"/images/{message.UploadId}/card.jpeg", first.Variants[1].Url);
        Assert.Equal(480, first.Variants[1].Width);
    }

    [Fact]
    public async Task A_message_published_twice_through_rabbitmq_attaches_the_image_once()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 1);
        await fixture.ReplicaB.GetProductAsync(product.Id); // cached, so the attach must invalidate it
        var message = Processed(product.Id);
        var consumed = new ConsumedCounter(message.UploadId);
        var handles = new[] { fixture.ReplicaA, fixture.ReplicaB }
            .Select(r => r.Services.GetRequiredService<IBus>().ConnectConsumeMessageObserver(consumed))
            .ToList();
        try
        {
            var bus = fixture.ReplicaA.Services.GetRequiredService<IBus>();
            await bus.Publish(message);
            await bus.Publish(message);

            await Poll.UntilAsync(() => Task.FromResult(consumed.Count), count => count >= 2);
        }
        finally
        {
            handles.ForEach(h => h.Disconnect());
        }

        var images = (await fixture.ReplicaB.GetProductAsync(product.Id)).Images;
        Assert.Equal(message.UploadId, Assert.Single(images).UploadId);
    }

    [Fact]
    public async Task The_workers_placeholder_is_stored_with_the_image_and_returned_and_anything_else_is_dropped()
    {
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 1);
        const string placeholder = "data:image/webp;base64,UklGRkAAAABXRUJQVlA4IDQAAADwAQCdASoUAA0APm0wlEekIyIhKAgAgA2JQBOgAAA=";
        var withPlaceholder = Processed(product.Id) with { Placeholder = placeholder };
        var withScript = Processed(product.Id) with { Placeholder = "javascript:alert(1)" };
        var tooLong = Processed(product.Id) with { Placeholder = "data:image/webp;base64," + new string('A', 2_000) };

        foreach (var message in new[] { withPlaceholder, withScript, tooLong })
        {
            await ConsumeAsync(fixture.ReplicaA, message);
        }

        var images = (await fixture.ReplicaB.GetProductAsync(product.Id)).Images;
        Assert.Equal([placeholder, null, null], images.Select(i => i.Placeholder));
    }

    [Fact]
    public async Task An_image_for_no_product_or_a_deleted_product_is_ignored()
    {
        var forNoProduct = new ImageProcessed(Guid.NewGuid(), null, Processed(Guid.NewGuid()).Variants);
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 1);
        using (var admin = fixture.ReplicaA.Admin())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/inventory/products/{product.Id}")).StatusCode);
        }

        var forDeletedProduct = Processed(product.Id);

        await ConsumeAsync(fixture.ReplicaA, forNoProduct);
        await ConsumeAsync(fixture.ReplicaA, forDeletedProduct);

        await using var scope = fixture.ReplicaA.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<InventoryDbContext>();
        Assert.False(await db.ProductImages.AnyAsync(i => i.UploadId == forNoProduct.UploadId || i.UploadId == forDeletedProduct.UploadId));
        Assert.False(await db.Products.AnyAsync(p => p.Id == product.Id), "The deleted product came back.");
    }

    private static async Task ConsumeAsync(InventoryApp replica, ImageProcessed message)
    {
        await using var scope = replica.Services.CreateAsyncScope();
        var consumer = ActivatorUtilities.CreateInstance<ImageProcessedConsumer>(scope.ServiceProvider);
        await consumer.Consume(MessageOnlyContext<ImageProcessed>.For(message));
    }

    /// <summary>Counts completed consumptions of one upload's ImageProcessed.</summary>
    private sealed class ConsumedCounter(Guid uploadId) : IConsumeMessageObserver<ImageProcessed>
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public Task PreConsume(ConsumeContext<ImageProcessed> context) => Task.CompletedTask;

        public Task PostConsume(ConsumeContext<ImageProcessed> context)
        {
            if (context.Message.UploadId == uploadId)
            {
                Interlocked.Increment(ref _count);
            }

            return Task.CompletedTask;
        }

        public Task ConsumeFault(ConsumeContext<ImageProcessed> context, Exception exception) => Task.CompletedTask;
    }
}

/// <summary>A ConsumeContext that carries only the message, for calling a consumer directly.</summary>
public class MessageOnlyContext<T> : DispatchProxy where T : class
{
    private T _message = null!;

    public static ConsumeContext<T> For(T message)
    {
        var context = Create<ConsumeContext<T>, MessageOnlyContext<T>>();
        ((MessageOnlyContext<T>)(object)context)._message = message;
        return context;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
    {
        "get_Message" => _message,
        "get_CancellationToken" => CancellationToken.None,
        _ => throw new NotSupportedException($"{targetMethod?.Name} is not needed by the consumers under test."),
    };
}
