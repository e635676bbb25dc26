package org.ttrec.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SparkSmokeTest {
    @Test
    void localTwoRuns() {
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("smoke")
                .set("spark.ui.enabled", "false"))) {
            assertEquals(10, sc.parallelize(List.of(1, 2, 3, 4), 2).reduce(Integer::sum));
        }
    }
}
