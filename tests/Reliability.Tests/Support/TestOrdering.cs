// Each storefront is a whole system of about twenty processes on a two-core machine: two of
// them at once would only make both slower and their timings meaningless.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
