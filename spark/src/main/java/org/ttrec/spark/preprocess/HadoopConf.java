package org.ttrec.spark.preprocess;

import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serial;
import java.io.Serializable;

/**
 * A Hadoop {@link Configuration} that travels with a Spark task: tasks open the input and output
 * file systems with the driver's settings (credentials, default file system). Configuration is
 * Writable, not Serializable, so it is written with its own encoding.
 */
final class HadoopConf implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private transient Configuration conf;

    /** @param conf the settings to carry (copied) */
    HadoopConf(Configuration conf) {
        this.conf = new Configuration(conf);
    }

    /** @return the settings */
    Configuration get() {
        return conf;
    }

    @Serial
    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        conf.write(out);
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        conf = new Configuration(false);
        conf.readFields(in);
    }
}
